"""Command-line pieces the backends' commands share."""

import click

from thoughts_common import migrations


def add_migration_commands(group, script_location, database_url, label):
    """``migrate`` and ``downgrade`` subcommands for a backend's Alembic scripts.

    ``database_url`` is called when the command runs, so the environment of
    that moment decides which database is migrated.
    """

    def move(step, revision):
        url = database_url()
        step(script_location, url, revision)
        reached = ", ".join(sorted(migrations.current_heads(script_location, url))) or "base"
        click.echo(f"{label} database at revision {reached}")

    @group.command(help="Apply the Alembic migrations (to head unless a revision is given).")
    @click.argument("revision", default="head")
    def migrate(revision):
        move(migrations.upgrade, revision)

    @group.command(help="Revert the Alembic migrations (to base unless a revision is given).")
    @click.argument("revision", default="base")
    def downgrade(revision):
        move(migrations.downgrade, revision)
