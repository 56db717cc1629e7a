"""The ``thoughts-backend`` command, run as a process like `make run` and a migration job run it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from thoughts_backend.models import Thought
from thoughts_common import database

BIN = Path(sys.executable).parent


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("thoughts_cli")
    # No JWT key: migrations and data loading need none.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JWT_")}
    return {**environ, "DATABASE_URL": url}


def run(env, *args):
    return subprocess.run([BIN / "thoughts-backend", *args], env=env, capture_output=True, text=True, timeout=120)


def count(url, **where):
    engine = database.create(url)
    try:
        with engine.connect() as connection:
            statement = select(func.count()).select_from(Thought).filter_by(**where)
            return connection.execute(statement).scalar()
    finally:
        engine.dispose()


def test_migrate_seed_and_load(env):
    migrated = run(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "thoughts database at revision 0004" in migrated.stdout

    first, second = run(env, "seed-demo"), run(env, "seed-demo")
    assert first.stdout == "added 5 demo thoughts\n"
    assert second.returncode == 0 and second.stdout == ""
    assert count(env["DATABASE_URL"], username="bruce") == 3
    assert count(env["DATABASE_URL"], username="stephen") == 2

    loaded = run(env, "load-synthetic", "2500", "--users", "5", "--seed", "1")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "loaded 2500 synthetic thoughts\n"
    assert "2500/2500" in loaded.stderr  # tqdm's progress bar
    assert count(env["DATABASE_URL"]) == 2505

    downgraded = run(env, "downgrade")
    assert downgraded.returncode == 0, downgraded.stderr
    assert downgraded.stdout == "thoughts database at revision base\n"
    assert run(env, "migrate").returncode == 0
    assert count(env["DATABASE_URL"]) == 0


@pytest.mark.parametrize("count_arg", ["0", "-3", "many"])
def test_load_synthetic_refuses_a_bad_count(count_arg):
    from click.testing import CliRunner

    from thoughts_backend.cli import main

    result = CliRunner().invoke(main, ["load-synthetic", "--", count_arg])
    assert result.exit_code == 2
    assert "COUNT" in result.output


def test_help_lists_the_commands():
    from click.testing import CliRunner

    from thoughts_backend.cli import main

    result = CliRunner().invoke(main, ["--help"])
    for command in ("migrate", "downgrade", "seed-demo", "load-synthetic"):
        assert command in result.output
