"""Create the thoughts table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "thoughts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("text", sa.String(250), nullable=False),
        # Naive UTC.
        sa.Column("timestamp", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_thoughts_username", "thoughts", ["username"])


def downgrade():
    op.drop_index("ix_thoughts_username", table_name="thoughts")
    op.drop_table("thoughts")
