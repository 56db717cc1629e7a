"""A user's thoughts in id order straight from an index: (username, id) replaces (username).

The pages of one user's thoughts ask for ``username = :u AND id < :before
ORDER BY id DESC LIMIT n`` (or ascending from ``after``). With an index on the
username alone PostgreSQL either sorts all of the user's rows for every page
or walks the primary key and filters: for a user whose thoughts are old, that
reads the whole table (100 to 200 ms on two million rows, against 0.1 ms with
this index). On (username, id) both orders are one index range, read from
either end. SQLite's index on username already ends with the rowid (the id);
the index is the same there, under the model's one name.

Chapter 9's rule: old code keeps running while this migration runs; its
queries are served by the new index as well. On PostgreSQL the index is built
CONCURRENTLY (outside a transaction) before the old one is dropped, so a
user's page is never left without one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

from thoughts_common import migrations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "thoughts"
NEW = ("ix_thoughts_username_id", ["username", "id"])
OLD = ("ix_thoughts_username", ["username"])


def _replace(built, dropped):
    name, columns = built
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, TABLE, columns)
        op.drop_index(dropped[0], table_name=TABLE)
        return
    with op.get_context().autocommit_block():
        if migrations.invalid_index_exists(op.get_bind(), name):
            op.drop_index(name, table_name=TABLE, postgresql_concurrently=True)
        op.create_index(name, TABLE, columns, postgresql_concurrently=True, if_not_exists=True)
        op.drop_index(dropped[0], table_name=TABLE, postgresql_concurrently=True, if_exists=True)


def upgrade():
    _replace(NEW, OLD)


def downgrade():
    _replace(OLD, NEW)
