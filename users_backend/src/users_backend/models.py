"""The users table."""

import datetime as dt

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from thoughts_common.contract import USERNAME_MAX_LENGTH


def utcnow():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True, nullable=False)
    # The username compared: NFKC and case folded (users.username_key), unique so that
    # "Bruce" and its full-width form cannot sit beside "bruce". No length: NFKC may expand a character.
    username_key: Mapped[str] = mapped_column(String, unique=True, nullable=False)
    # An argon2 hash (PHC string), never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    # Naive UTC, as the book stored it.
    creation: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class LoginFailures(Base):
    """Recent failed logins of one username or one client address, shared by every worker and replica."""

    __tablename__ = "login_throttle"

    # "username" or "address"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    # Naive UTC; attempts before it are refused with 429 without checking the password.
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
