"""Case-insensitive substring search on both engines, with user input taken literally.

PostgreSQL: ``text ILIKE '%term%' ESCAPE '\\'``, which the trigram index of
migration 0002 serves. SQLite's ``lower()`` and ``LIKE`` fold ASCII letters
only, so on SQLite both sides go through Python's ``str.lower`` instead,
registered on every connection as ``unicode_lower``; the FTS5 trigram table of
migration 0003 (the lowered texts) finds the candidate rows for terms of three
characters or more, shorter ones are looked for row by row.
"""

from sqlalchemy import Integer, column, event, func, table

ESCAPE = "\\"
SQLITE_LOWER = "unicode_lower"

# Migration 0003's FTS5 table: rowid is the thought's id, text its lowered text.
sqlite_index = table("thoughts_search", column("rowid", Integer), column("text"))
# A trigram index finds only substrings of at least three characters.
TRIGRAM = 3


def escape_like(term):
    """``term`` with the LIKE wildcards ``%`` and ``_`` and the escape character made literal."""
    return term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(term):
    return f"%{escape_like(term)}%"


def pattern_for(term, dialect_name):
    """The LIKE pattern ``matches`` compares with: on SQLite both sides are lowered by Python."""
    pattern = contains_pattern(term)
    return pattern.lower() if dialect_name == "sqlite" else pattern


def matches(column, pattern, dialect_name):
    """A condition: ``column`` matches the LIKE ``pattern`` (from ``pattern_for``) regardless of case."""
    if dialect_name == "sqlite":
        return func.unicode_lower(column).like(pattern, escape=ESCAPE)
    return column.ilike(pattern, escape=ESCAPE)


def sqlite_index_serves(term):
    return len(term.lower()) >= TRIGRAM


def sqlite_phrase(term):
    """The FTS5 query for ``sqlite_index``: its text contains ``term`` lowered, taken literally.

    An FTS5 string in double quotes is one phrase whatever it holds (a ``"``
    is doubled); the trigram tokenizer turns it into consecutive trigrams.
    """
    return '"' + term.lower().replace('"', '""') + '"'


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def install(engine):
    """Register ``unicode_lower`` on each new connection of a SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _register(dbapi_connection, _record):
        dbapi_connection.create_function(SQLITE_LOWER, 1, _unicode_lower, deterministic=True)
