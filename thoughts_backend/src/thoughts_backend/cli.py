"""``thoughts-backend`` command: migrations, demo data and synthetic load.

Needs only the database settings, not the JWT key, so a migration job can run
it without any secret.
"""

from pathlib import Path

import click
from tqdm import tqdm

from thoughts_backend import TAG, seeding, textsearch
from thoughts_common import database, settings
from thoughts_common.cli import add_migration_commands

MIGRATIONS = Path(__file__).parent / "migrations"


def _url():
    with settings.refuse_to_start():
        return database.database_url(TAG)


def _session():
    db = database.Database(_url())
    # The search index's triggers call unicode_lower on every write (migration 0003).
    textsearch.install(db.engine)
    return db.sessionmaker()


@click.group(help="Thoughts backend administration.")
def main():
    pass


add_migration_commands(main, MIGRATIONS, _url, "thoughts")


@main.command("seed-demo", help="Add the book's five thoughts of bruce and stephen unless they are there.")
def seed_demo():
    with _session() as session:
        added = seeding.seed_demo(session)
    if added:
        click.echo(f"added {added} demo thoughts")


@main.command("load-synthetic", help="Insert COUNT synthetic thoughts (for benchmarks and demos).")
@click.argument("count", type=click.IntRange(min=1))
@click.option(
    "--users", type=click.IntRange(min=1), default=100, show_default=True, help="Spread over this many users."
)
@click.option("--seed", type=int, default=None, help="Random seed, for the same thoughts every time.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True)
def load_synthetic(count, users, seed, batch_size):
    with _session() as session, tqdm(total=count, unit="thought", desc="loading") as bar:
        seeding.load_synthetic(session, count, users=users, seed=seed, batch_size=batch_size, progress=bar.update)
    click.echo(f"loaded {count} synthetic thoughts")
