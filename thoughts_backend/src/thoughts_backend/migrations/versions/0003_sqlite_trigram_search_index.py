"""Trigram index for the substring search, on SQLite only (PostgreSQL has 0002's).

An FTS5 table with the trigram tokenizer (SQLite >= 3.34) holds each thought's
text lowered by Python's ``str.lower``, under the thought's id as rowid. The
search lowers the term the same way and asks for it as a phrase: a phrase of
trigrams at consecutive positions is an exact substring, so the index answers
with exactly the contract's case folding. FTS5's own folding is not used
(``case_sensitive 1``): its table is older than Python's Unicode (Cherokee,
Georgian Mtavruli, Osage... and 'İ' fold differently), it would miss rows.

The table keeps its own copy of the lowered text (not ``content=thoughts``):
the index holds lowered text, not the column, and FTS5 removes a row from its
own copy, whatever ``str.lower`` does in a later Python.

Triggers keep it in step and call ``unicode_lower``, which the application
registers on each of its connections (textsearch.install): a program that
writes thoughts without it (the sqlite3 shell) gets "no such function".

Chapter 9's rule: old code keeps running while this migration runs. It
registers ``unicode_lower`` too, so its writes fire the triggers. The triggers
exist before the table is filled, and the fill skips ids already indexed, so a
thought written meanwhile is indexed once. Old code still searches by scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRIGGERS = {
    "thoughts_search_insert": (
        "AFTER INSERT ON thoughts BEGIN "
        "INSERT INTO thoughts_search (rowid, text) VALUES (new.id, unicode_lower(new.text)); END"
    ),
    "thoughts_search_delete": ("AFTER DELETE ON thoughts BEGIN DELETE FROM thoughts_search WHERE rowid = old.id; END"),
    "thoughts_search_update": (
        "AFTER UPDATE OF id, text ON thoughts BEGIN "
        "DELETE FROM thoughts_search WHERE rowid = old.id; "
        "INSERT INTO thoughts_search (rowid, text) VALUES (new.id, unicode_lower(new.text)); END"
    ),
}


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def _register_unicode_lower():
    """The migration's own connection fills the table and must know the function too."""
    driver = op.get_bind().connection.driver_connection
    driver.create_function("unicode_lower", 1, lambda v: v.lower() if isinstance(v, str) else v, deterministic=True)


def upgrade():
    if not _sqlite():
        return
    _register_unicode_lower()
    op.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS thoughts_search USING fts5(text, tokenize = 'trigram case_sensitive 1')"
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    op.execute(
        "INSERT INTO thoughts_search (rowid, text) SELECT id, unicode_lower(text) FROM thoughts "
        "WHERE id NOT IN (SELECT rowid FROM thoughts_search)"
    )


def downgrade():
    if not _sqlite():
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS thoughts_search")
