"""``users-backend`` command: migrations, users and demo data.

Needs only the database settings, not the JWT keys, so a migration job can
run it without any secret.
"""

from pathlib import Path

import click

from thoughts_common import database, settings
from thoughts_common.cli import add_migration_commands
from users_backend import TAG, throttle, users
from users_backend.client_address import normalise

MIGRATIONS = Path(__file__).parent / "migrations"
DEMO_USERS = [("bruce", "bruce"), ("stephen", "stephen")]


def _url():
    with settings.refuse_to_start():
        return database.database_url(TAG)


def _session():
    return database.Database(_url()).sessionmaker()


@click.group(help="Thoughts users backend administration.")
def main():
    pass


add_migration_commands(main, MIGRATIONS, _url, "users")


@main.command("create-user", help="Create a user (the password is asked for unless given).")
@click.argument("username")
@click.option("--password", envvar="NEW_USER_PASSWORD", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
def create_user(username, password, admin):
    with _session() as session:
        try:
            users.create_user(session, username, password, is_admin=admin)
        except users.InvalidUser as exc:
            raise click.BadParameter(str(exc)) from None
        except users.DuplicateUser:
            raise click.ClickException(f"user {username} already exists") from None
    click.echo(f"created {'admin ' if admin else ''}user {username}")


@main.command("seed-demo", help="Create the book's demo users unless they exist.")
def seed_demo():
    with _session() as session:
        for username, password in DEMO_USERS:
            if users.find(session, username) is None:
                users.create_user(session, username, password)
                click.echo(f"created demo user {username}")


@main.command("clear-login-throttle", help="Forget the failed logins of a username and/or a client address.")
@click.option("--username", help="The username to unblock.")
@click.option("--address", help="The client address to unblock (IPv6: any address of its /64).")
def clear_login_throttle(username, address):
    if username is None and address is None:
        raise click.UsageError("give --username, --address or both")
    with _session() as session:
        removed = throttle.clear(session, username=username, address=normalise(address) if address else None)
    click.echo(f"cleared {removed} login throttle record(s)")
