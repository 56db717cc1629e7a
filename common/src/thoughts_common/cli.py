"""Command-line pieces the backends' commands share."""

import click

from thoughts_common import migrations


def add_migration_commands(group, script_location, database_url, label):
    """``migrate`` and ``downgrade`` subcommands for a backend's Alembic scripts.

    ``database_url`` is called when the command runs, so the environment of
    that moment decides which database is migrated.
    """

    @group.command(help="Apply the Alembic migrations (to head unless a revision is given).")
    @click.argument("revision", default="head")
    def migrate(revision):
        url = database_url()
        migrations.upgrade(script_location, url, revision)
        click.echo(f"{label} database at revision {_reached(script_location, url)}")

    @group.command(help="Revert the Alembic migrations (to base unless a revision is given).")
    @click.argument("revision", default="base")
    def downgrade(revision):
        url = database_url()
        migrations.downgrade(script_location, url, revision)
        click.echo(f"{label} database at revision {_reached(script_location, url)}")


def _reached(script_location, url):
    """The revision the database is at now, as Alembic records it ("base" when none)."""
    return ", ".join(sorted(migrations.current_heads(script_location, url))) or "base"
