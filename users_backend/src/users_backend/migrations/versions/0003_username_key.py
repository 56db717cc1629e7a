"""Usernames compared after NFKC normalisation and case folding: a unique key column.

Existing users get their key. When older data already holds look-alikes
("bruce" and "Bruce"), the oldest keeps the plain key and each later one gets
``<key>\\n<id>``: unique, never the key of a typed username (a username has no
line break), so that user still logs in with the exact username
(users.authenticate tries the exact name first).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("username_key"))


def username_key(username):
    # A copy of users_backend.users.username_key as it is today: a migration must not change with the code.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def upgrade():
    op.add_column("users", sa.Column("username_key", sa.String(), nullable=True))
    connection = op.get_bind()
    taken = set()
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        key = username_key(username)
        if key in taken:
            key = f"{key}\n{user_id}"
        taken.add(key)
        connection.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("username_key")
