"""Case-insensitive substring search on both engines, with user input taken literally.

PostgreSQL: ``text ILIKE '%term%' ESCAPE '\\'``, which the trigram index of
migration 0002 serves. SQLite's ``lower()`` and ``LIKE`` fold ASCII letters
only, so on SQLite both sides go through Python's ``str.lower`` instead,
registered on every connection as ``unicode_lower``.
"""

from sqlalchemy import event, func

ESCAPE = "\\"
SQLITE_LOWER = "unicode_lower"


def escape_like(term):
    """``term`` with the LIKE wildcards ``%`` and ``_`` and the escape character made literal."""
    return term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(term):
    return f"%{escape_like(term)}%"


def matches(column, pattern, dialect_name):
    """A condition: ``column`` matches the LIKE ``pattern`` regardless of case."""
    if dialect_name == "sqlite":
        return func.unicode_lower(column).like(pattern.lower(), escape=ESCAPE)
    return column.ilike(pattern, escape=ESCAPE)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def install(engine):
    """Register ``unicode_lower`` on each new connection of a SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _register(dbapi_connection, _record):
        dbapi_connection.create_function(SQLITE_LOWER, 1, _unicode_lower, deterministic=True)
