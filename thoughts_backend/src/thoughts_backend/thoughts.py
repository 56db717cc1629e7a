"""Plain functions over the thoughts table; the API modules stay thin."""

import functools
import logging
import re

from sqlalchemy import bindparam, delete, insert, select

from thoughts_backend import paging, textsearch
from thoughts_backend.models import MAX_ID, TEXT_MAX_LENGTH, USERNAME_MAX_LENGTH, Thought, utcnow
from thoughts_common import inputs

logger = logging.getLogger(__name__)

# What the documents say of a thought's text, and what validate_text checks: not blank, no NUL.
TEXT_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
_NOT_BLANK = re.compile(r"\S")


# Reads and writes go through SQLAlchemy Core rows, not ORM objects: loading an
# ORM instance cost ~160 us per thought against ~70 us for the same row on SQLite.
THOUGHTS = Thought.__table__
_BY_ID = select(THOUGHTS).where(THOUGHTS.c.id == bindparam("thought_id"))


class InvalidThought(ValueError):
    pass


class InvalidSearch(ValueError):
    pass


def _check_storable(value, name):
    """Text every engine can store (thoughts_common.inputs)."""
    try:
        inputs.check_text(value, name)
    except inputs.InvalidInput as exc:
        raise InvalidThought(str(exc)) from None


def validate_text(text):
    if text is None:
        raise InvalidThought("text is required")
    if not isinstance(text, str):
        raise InvalidThought("text must be a string")
    if not _NOT_BLANK.search(text):
        raise InvalidThought("text must not be blank")
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidThought(f"text is longer than {TEXT_MAX_LENGTH} characters")
    _check_storable(text, "text")


def create_thought(session, username, text, timestamp=None):
    validate_text(text)
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidThought(f"username is longer than {USERNAME_MAX_LENGTH} characters")
    values = {"username": username, "text": text, "timestamp": timestamp or utcnow()}
    thought = session.execute(insert(THOUGHTS).values(values).returning(*THOUGHTS.c)).one()
    session.commit()
    logger.info("Created thought %d for user %s", thought.id, username)
    return thought


# Statements are built once, with the page (and the term or the user) as bound
# parameters: building and keying a new statement cost ~150 us a search.
_AFTER, _LIMIT, _PATTERN, _PHRASE, _USERNAME = (
    bindparam(name) for name in ("after", "limit", "pattern", "phrase", "username")
)
_FOR_USER = (
    select(THOUGHTS)
    .where(THOUGHTS.c.username == _USERNAME, THOUGHTS.c.id > _AFTER)
    .order_by(THOUGHTS.c.id)
    .limit(_LIMIT)
)


def _page_parameters(page):
    """Queries ask for ``page.limit + 1`` rows: the extra one only tells that a next page exists (paging.split)."""
    return {"after": page.after, "limit": page.limit + 1}


def for_user(session, username, page):
    """One page of the user's thoughts, and the id the next page starts after (None at the end)."""
    rows = session.execute(_FOR_USER, {**_page_parameters(page), "username": username}).all()
    thoughts, next_after = paging.split(rows, page)
    logger.info("Retrieved %d thoughts for user %s", len(thoughts), username)
    return thoughts, next_after


@functools.cache
def _search_shape(shape, dialect_name):
    """``all``: every thought; ``scan``: a condition on each row; ``indexed``: SQLite's FTS5 index first."""
    statement = select(THOUGHTS)
    if shape == "all":
        return statement.where(THOUGHTS.c.id > _AFTER).order_by(THOUGHTS.c.id).limit(_LIMIT)
    matches = textsearch.matches(THOUGHTS.c.text, _PATTERN, dialect_name)
    if shape == "scan":
        return statement.where(matches, THOUGHTS.c.id > _AFTER).order_by(THOUGHTS.c.id).limit(_LIMIT)
    # Walk the FTS5 index's matches in id order and fetch each thought by id.
    # ``matches`` is checked again on those few rows: the index only narrows the
    # search, the contract stays the one condition. Ordering by the index's rowid
    # lets FTS5 deliver the rows sorted and stop at the limit.
    index = textsearch.sqlite_index
    return (
        statement.select_from(index)
        .join(THOUGHTS, THOUGHTS.c.id == index.c.rowid)
        .where(index.c.text.op("MATCH")(_PHRASE), index.c.rowid > _AFTER, matches)
        .order_by(index.c.rowid)
        .limit(_LIMIT)
    )


def _search_query(term, page, dialect_name):
    """(statement, parameters) of one search page."""
    parameters = _page_parameters(page)
    if not term:
        return _search_shape("all", dialect_name), parameters
    parameters["pattern"] = textsearch.pattern_for(term, dialect_name)
    logger.info("Searching with params %s", textsearch.contains_pattern(term))
    if dialect_name == "sqlite" and textsearch.sqlite_index_serves(term):
        parameters["phrase"] = textsearch.sqlite_phrase(term)
        return _search_shape("indexed", dialect_name), parameters
    return _search_shape("scan", dialect_name), parameters


def search_statement(term, page, dialect_name):
    """The search query with its parameters bound, for the tests that EXPLAIN it."""
    statement, parameters = _search_query(term, page, dialect_name)
    return statement.params(parameters)


def search(session, term, page):
    """One page of the thoughts whose text contains ``term`` in any case (all when empty), and the next id."""
    if term:
        try:
            _check_storable(term, "search")
        except InvalidThought as exc:
            raise InvalidSearch(str(exc)) from None
    dialect_name = session.get_bind().dialect.name
    rows = session.execute(*_search_query(term, page, dialect_name)).all()
    thoughts, next_after = paging.split(rows, page)
    logger.info("Retrieved %d thoughts", len(thoughts))
    return thoughts, next_after


def find(session, thought_id):
    if not 0 < thought_id <= MAX_ID:
        return None
    return session.execute(_BY_ID, {"thought_id": thought_id}).first()


def delete_thought(session, thought_id):
    """True when a thought was deleted, False when there was none with that id."""
    if not 0 < thought_id <= MAX_ID:
        return False
    deleted = session.execute(delete(THOUGHTS).where(THOUGHTS.c.id == thought_id)).rowcount
    session.commit()
    return deleted > 0


def as_dict(thought):
    """The API's form of a row of THOUGHTS."""
    return {
        "id": thought.id,
        "username": thought.username,
        "text": thought.text,
        # Positional: isoformat(timespec="seconds") costs twice as much (keyword parsing).
        "timestamp": thought.timestamp.isoformat("T", "seconds"),
    }
