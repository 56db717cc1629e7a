"""Plain functions over the thoughts table; the API modules stay thin."""

import functools
import logging

from sqlalchemy import and_, bindparam, delete, insert, select

from thoughts_backend import paging, textsearch
from thoughts_backend.models import USERNAME_MAX_LENGTH, Thought, utcnow
from thoughts_common import contract, inputs

logger = logging.getLogger(__name__)


# Reads and writes go through SQLAlchemy Core rows, not ORM objects: loading an
# ORM instance cost ~160 us per thought against ~70 us for the same row on SQLite.
THOUGHTS = Thought.__table__
_BY_ID = select(THOUGHTS).where(THOUGHTS.c.id == bindparam("thought_id"))


class InvalidThought(ValueError):
    pass


class InvalidSearch(ValueError):
    pass


def validate_text(text):
    """The contract's rule for a thought's text; InvalidThought with its message."""
    problem = contract.thought_problem(text)
    if problem:
        raise InvalidThought(problem)


def create_thought(session, username, text, timestamp=None):
    validate_text(text)
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidThought(f"username is longer than {USERNAME_MAX_LENGTH} characters")
    values = {"username": username, "text": text, "timestamp": timestamp or utcnow()}
    thought = session.execute(insert(THOUGHTS).values(values).returning(*THOUGHTS.c)).one()
    session.commit()
    logger.info("Created thought %d for user %s", thought.id, username)
    return thought


# Statements are built once per shape and order, with the page (and the term or
# the user) as bound parameters: building and keying a new statement cost ~150 us a search.
_AFTER, _UPTO, _LIMIT, _PATTERN, _PHRASE, _USERNAME = (
    bindparam(name) for name in ("after", "upto", "limit", "pattern", "phrase", "username")
)


def _keyset(column, descending):
    """The condition and the ORDER BY of a page on ``column`` (the id, or the FTS5 index's rowid)."""
    # ``<= upto`` rather than ``< before``: without ``before`` the bound is MAX_ID itself,
    # where MAX_ID + 1 would not fit PostgreSQL's INTEGER.
    condition = and_(column > _AFTER, column <= _UPTO)
    return condition, column.desc() if descending else column.asc()


def _page_parameters(page):
    """Queries ask for ``page.limit + 1`` rows: the extra one only tells that a next page exists (paging.split)."""
    upto = contract.MAX_ID if page.before is None else page.before - 1
    return {"after": page.after, "upto": upto, "limit": page.limit + 1}


@functools.cache
def _for_user_statement(descending):
    condition, order = _keyset(THOUGHTS.c.id, descending)
    return select(THOUGHTS).where(THOUGHTS.c.username == _USERNAME, condition).order_by(order).limit(_LIMIT)


def for_user_statement(username, page):
    """The user's page query with its parameters bound, for the tests that EXPLAIN it."""
    return _for_user_statement(page.descending).params(_page_parameters(page), username=username)


def for_user(session, username, page):
    """One page of the user's thoughts, and the id the next page continues from (None at the end)."""
    statement = _for_user_statement(page.descending)
    rows = session.execute(statement, {**_page_parameters(page), "username": username}).all()
    thoughts, next_key = paging.split(rows, page)
    logger.info("Retrieved %d thoughts for user %s", len(thoughts), username)
    return thoughts, next_key


@functools.cache
def _search_shape(shape, dialect_name, descending):
    """``all``: every thought; ``scan``: a condition on each row; ``indexed``: SQLite's FTS5 index first."""
    statement = select(THOUGHTS)
    condition, order = _keyset(THOUGHTS.c.id, descending)
    if shape == "all":
        return statement.where(condition).order_by(order).limit(_LIMIT)
    matches = textsearch.matches(THOUGHTS.c.text, _PATTERN, dialect_name)
    if shape == "scan":
        return statement.where(matches, condition).order_by(order).limit(_LIMIT)
    # Walk the FTS5 index's matches in id order and fetch each thought by id.
    # ``matches`` is checked again on those few rows: the index only narrows the
    # search, the contract stays the one condition. Ordering by the index's rowid
    # (either way) lets FTS5 deliver the rows sorted and stop at the limit.
    index = textsearch.sqlite_index
    condition, order = _keyset(index.c.rowid, descending)
    return (
        statement.select_from(index)
        .join(THOUGHTS, THOUGHTS.c.id == index.c.rowid)
        .where(index.c.text.op("MATCH")(_PHRASE), condition, matches)
        .order_by(order)
        .limit(_LIMIT)
    )


def _search_query(term, page, dialect_name):
    """(statement, parameters) of one search page."""
    parameters = _page_parameters(page)
    if not term:
        return _search_shape("all", dialect_name, page.descending), parameters
    parameters["pattern"] = textsearch.pattern_for(term, dialect_name)
    logger.info("Searching with params %s", textsearch.contains_pattern(term))
    if dialect_name == "sqlite" and textsearch.sqlite_index_serves(term):
        parameters["phrase"] = textsearch.sqlite_phrase(term)
        return _search_shape("indexed", dialect_name, page.descending), parameters
    return _search_shape("scan", dialect_name, page.descending), parameters


def search_statement(term, page, dialect_name):
    """The search query with its parameters bound, for the tests that EXPLAIN it."""
    statement, parameters = _search_query(term, page, dialect_name)
    return statement.params(parameters)


def search(session, term, page):
    """One page of the thoughts whose text contains ``term`` in any case (all when empty), and the next key."""
    if term:
        try:
            inputs.check_text(term, "search")
        except inputs.InvalidInput as exc:
            raise InvalidSearch(str(exc)) from None
    dialect_name = session.get_bind().dialect.name
    rows = session.execute(*_search_query(term, page, dialect_name)).all()
    thoughts, next_key = paging.split(rows, page)
    logger.info("Retrieved %d thoughts", len(thoughts))
    return thoughts, next_key


def find(session, thought_id):
    if not 0 < thought_id <= contract.MAX_ID:
        return None
    return session.execute(_BY_ID, {"thought_id": thought_id}).first()


def delete_thought(session, thought_id):
    """True when a thought was deleted, False when there was none with that id."""
    if not 0 < thought_id <= contract.MAX_ID:
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
