"""The thoughts table."""

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from thoughts_common import inputs

USERNAME_MAX_LENGTH = 50
TEXT_MAX_LENGTH = 250
# Ids are 32-bit integers on PostgreSQL; a larger one in a query would be an error, not "no such thought".
MAX_ID = inputs.MAX_ID


def utcnow():
    """Naive UTC to the second, as the book stored and returned it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    pass


class Thought(Base):
    __tablename__ = "thoughts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), nullable=False, index=True)
    text: Mapped[str] = mapped_column(String(TEXT_MAX_LENGTH), nullable=False)
    timestamp: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
