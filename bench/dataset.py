"""The bench's data: fresh databases, both backends' own migrations, bruce, and BENCH_ROWS thoughts.

Of the thoughts, ``RARE_COUNT`` contain the rare word and ``BRUCE_COUNT`` are
bruce's; the rest are synthetic users' (thoughts_backend.seeding's texts).
SQLite gets a bulk INSERT in one transaction; PostgreSQL gets COPY, with the
secondary indexes dropped during the load and rebuilt from their own
definitions afterwards (whatever the migrations made them), then ANALYZE.
"""

import dataclasses
import datetime as dt
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, func, insert, select, text

from thoughts_backend import textsearch
from thoughts_backend.models import Thought, utcnow
from thoughts_backend.seeding import synthetic_text
from thoughts_common.contract import THOUGHT_MAX_LENGTH

from .services import BIN

RARE_WORD = "platypus"
RARE_COUNT = 20
BRUCE = "bruce"
BRUCE_COUNT = 100
MIN_ROWS = 200
SEED = 12


@dataclasses.dataclass
class Databases:
    engine: str
    thoughts: str
    users: str


@dataclasses.dataclass
class Dataset:
    rows: int
    thought_id: int
    last_id: int
    load_seconds: float


def create_databases(stack, kind, folder):
    """SQLite files in ``folder``, or two fresh PostgreSQL databases dropped when ``stack`` closes."""
    if kind == "sqlite":
        return Databases(
            "sqlite", f"sqlite:///{Path(folder) / 'thoughts.sqlite3'}", f"sqlite:///{Path(folder) / 'users.sqlite3'}"
        )
    if kind != "postgresql":
        raise ValueError(f"BENCH_DB={kind!r}: use sqlite or postgresql")
    import pytest

    from thoughts_common.testing.postgres import server_for_tests

    try:
        server = stack.enter_context(server_for_tests(durable=True))
        return Databases("postgresql", server.create_database("bench_thoughts"), server.create_database("bench_users"))
    except pytest.skip.Exception as exc:  # its way of saying the server is not there
        raise RuntimeError(str(exc)) from None


def _cli(command, *args, env):
    result = subprocess.run(
        [str(BIN / command), *args], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def migrate_and_create_bruce(databases, password):
    """Both backends' own ``migrate``, and bruce through ``users-backend create-user``."""
    users_env = {"DATABASE_URL": databases.users, "NEW_USER_PASSWORD": password}
    _cli("users-backend", "migrate", env=users_env)
    _cli("users-backend", "create-user", BRUCE, env=users_env)
    _cli("thoughts-backend", "migrate", env={"DATABASE_URL": databases.thoughts})


def _positions(count):
    """Row numbers of bruce's thoughts and of the rare word's, spread over the table and apart."""
    bruce = {i * (count // BRUCE_COUNT) for i in range(BRUCE_COUNT)}
    step = count // RARE_COUNT
    rare = set()
    for i in range(RARE_COUNT):
        position = step // 2 + i * step
        while position in bruce or position in rare:
            position += 1
        rare.add(position)
    return bruce, rare


def rows(count):
    """(username, text, timestamp) of every thought, oldest first, the same for the same ``count``."""
    rng = random.Random(SEED)
    bruce, rare = _positions(count)
    start = utcnow() - dt.timedelta(seconds=count)
    for i in range(count):
        body = synthetic_text(rng)
        if i in rare:
            body = f"{body[: THOUGHT_MAX_LENGTH - len(RARE_WORD) - 1]} {RARE_WORD}".strip()
        username = BRUCE if i in bruce else f"synthetic_{rng.randrange(1000):04d}"
        yield username, body, start + dt.timedelta(seconds=i)


def _load_sqlite(url, count):
    engine = create_engine(url)
    # Migration 0003's triggers index each text through the backend's unicode_lower.
    textsearch.install(engine)
    try:
        with engine.begin() as connection:
            batch = []
            for username, body, timestamp in rows(count):
                batch.append({"username": username, "text": body, "timestamp": timestamp})
                if len(batch) == 10_000:
                    connection.execute(insert(Thought), batch)
                    batch = []
            if batch:
                connection.execute(insert(Thought), batch)
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _libpq_url(url):
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _load_postgresql(url, count):
    with psycopg.connect(_libpq_url(url)) as connection:
        connection.execute("SET maintenance_work_mem = '256MB'")
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'thoughts' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'thoughts'::regclass)"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        with connection.cursor().copy("COPY thoughts (username, text, timestamp) FROM STDIN") as copy:
            for row in rows(count):
                copy.write_row(row)
        for _, definition in indexes:
            connection.execute(definition)
        connection.commit()
    with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE thoughts")


def load(databases, count):
    """Insert ``count`` thoughts; returns the Dataset (the id a GET reads, the last id, the load time)."""
    if count < MIN_ROWS:
        raise ValueError(f"BENCH_ROWS={count}: at least {MIN_ROWS}")
    started = time.monotonic()
    if databases.engine == "sqlite":
        _load_sqlite(databases.thoughts, count)
    else:
        _load_postgresql(databases.thoughts, count)
    seconds = time.monotonic() - started
    engine = create_engine(databases.thoughts)
    try:
        with engine.connect() as connection:
            middle = connection.execute(select(Thought.id).order_by(Thought.id).offset(count // 2).limit(1)).scalar()
            last = connection.execute(select(func.max(Thought.id))).scalar()
    finally:
        engine.dispose()
    return Dataset(rows=count, thought_id=middle, last_id=last, load_seconds=seconds)


def reset(databases, dataset):
    """Remove what a round's POSTs added, so that every round reads the same table."""
    engine = create_engine(databases.thoughts)
    try:
        with engine.begin() as connection:
            connection.execute(Thought.__table__.delete().where(Thought.id > dataset.last_id))
    finally:
        engine.dispose()


def temporary_folder():
    return tempfile.TemporaryDirectory(prefix="thoughts-bench-")
