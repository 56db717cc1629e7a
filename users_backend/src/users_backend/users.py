"""Plain functions over the users table; the API modules stay thin."""

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from users_backend import passwords
from users_backend.models import USERNAME_MAX_LENGTH, User

logger = logging.getLogger(__name__)

PASSWORD_MAX_LENGTH = 256


class InvalidUser(ValueError):
    pass


class DuplicateUser(Exception):
    pass


def validate(username, password):
    if not isinstance(username, str) or not username.strip():
        raise InvalidUser("username is required")
    if not isinstance(password, str) or not password:
        raise InvalidUser("password is required")
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidUser(f"username is longer than {USERNAME_MAX_LENGTH} characters")
    if username != username.strip() or not username.isprintable():
        raise InvalidUser("username must not contain leading or trailing spaces or control characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidUser(f"password is longer than {PASSWORD_MAX_LENGTH} characters")


def create_user(session, username, password, is_admin=False):
    validate(username, password)
    user = User(username=username, password_hash=passwords.hash_password(password), is_admin=is_admin)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateUser(username) from None
    logger.info("Created user %s (admin: %s)", username, is_admin)
    return user


def find(session, username):
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def authenticate(session, username, password):
    """The user when the password matches; None for a wrong password or an unknown user alike."""
    user = find(session, username)
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    return user


def as_dict(user):
    return {"id": user.id, "username": user.username, "creation": user.creation.isoformat(timespec="seconds")}
