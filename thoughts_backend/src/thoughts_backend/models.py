"""The thoughts table."""

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from thoughts_common.contract import THOUGHT_MAX_LENGTH, USERNAME_MAX_LENGTH


def utcnow():
    """Naive UTC to the second, as the book stored and returned it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    pass


class Thought(Base):
    __tablename__ = "thoughts"
    # One user's pages read this index in id order, from either end (migration 0004).
    __table_args__ = (Index("ix_thoughts_username_id", "username", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), nullable=False)
    text: Mapped[str] = mapped_column(String(THOUGHT_MAX_LENGTH), nullable=False)
    timestamp: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
