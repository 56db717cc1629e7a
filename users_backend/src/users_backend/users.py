"""Plain functions over the users table; the API modules stay thin."""

import datetime as dt
import logging
import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from thoughts_common import contract
from users_backend import passwords
from users_backend.models import User

logger = logging.getLogger(__name__)


class InvalidUser(ValueError):
    pass


class DuplicateUser(Exception):
    pass


def username_key(username):
    """What usernames are compared by: NFKC, case folded, NFKC again (folding can denormalise)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def validate(username, password):
    """The contract's rules for a new username and a password; InvalidUser with the message."""
    # The API refuses unstorable text at the edge already; the command line (create-user) comes here directly.
    problem = contract.username_problem(username) or contract.password_problem(password)
    if problem:
        raise InvalidUser(problem)


def create_user(session, username, password, is_admin=False):
    validate(username, password)
    user = User(
        username=username,
        username_key=username_key(username),
        password_hash=passwords.hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateUser(username) from None
    logger.info("Created user %s (admin: %s)", username, is_admin)
    return user


def find(session, username):
    """The user whose username is ``username`` exactly, else the one it looks like (same key), else None.

    The exact name comes first for the look-alikes that migration 0003 found already
    stored: each keeps logging in with its own name.
    """
    candidates = session.scalars(
        select(User).where(or_(User.username == username, User.username_key == username_key(username)))
    ).all()
    exact = [user for user in candidates if user.username == username]
    return (exact or candidates or [None])[0]


def authenticate(session, username, password):
    """The user when the password matches; None for a wrong password or an unknown user alike.

    ``Bruce`` and full-width ``bruce`` log in as ``bruce`` (same key); the token carries the stored name.
    A hash made with older argon2 parameters is replaced in the session; the caller's commit stores it.
    """
    user = find(session, username)
    # The verify costs tens of milliseconds of CPU: it must not hold a pooled connection,
    # or the worker's other threads wait for one and answer 503 (seen under make bench).
    session.commit()
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        logger.info("Password hash of user %s upgraded to the current argon2 parameters", user.username)
    return user


def as_dict(user):
    # Stored as naive UTC; said with its offset, as the documented date-time format asks.
    creation = user.creation.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")
    return {"id": user.id, "username": user.username, "creation": creation}
