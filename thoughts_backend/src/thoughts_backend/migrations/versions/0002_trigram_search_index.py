"""Trigram index for the substring search, on PostgreSQL only.

``text ILIKE '%term%'`` cannot use a B-tree index; a GIN index with pg_trgm's
operator class can, for ILIKE as for LIKE. SQLite has no such index and
skips this migration.

Chapter 9's rule: old code keeps running while this migration runs. The index
is built CONCURRENTLY, which does not lock writes out of the table (and must
run outside a transaction, hence the autocommit block).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

from thoughts_common import migrations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_thoughts_text_trgm"


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    # pg_trgm is a trusted extension: the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        if migrations.invalid_index_exists(op.get_bind(), INDEX):
            # An interrupted concurrent build leaves an invalid index behind: build it anew.
            op.drop_index(INDEX, table_name="thoughts", postgresql_concurrently=True)
        op.create_index(
            INDEX,
            "thoughts",
            ["text"],
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade():
    if not _postgresql():
        return
    # The extension stays: other objects of the database may use it.
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name="thoughts", postgresql_concurrently=True, if_exists=True)
