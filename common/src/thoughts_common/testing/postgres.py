"""Fresh PostgreSQL databases for a test run, dropped afterwards.

The server is ``TEST_POSTGRES_URL``'s; unset, a throwaway server is started for
the run (``throwaway_postgres``; ``make test`` starts one for all its suites).
When there is none, tests that need it are skipped, except with ``CI=true``
where they fail: CI must never pass without PostgreSQL.
"""

import contextlib
import os
import uuid

import psycopg
import pytest
from psycopg import sql

from thoughts_common import settings
from thoughts_common.testing import throwaway_postgres


def server_url():
    """``TEST_POSTGRES_URL`` (None when unset), with the password of ``TEST_POSTGRES_PASSWORD``
    or ``TEST_POSTGRES_PASSWORD_FILE`` when set (a mounted secret in compose)."""
    url = settings.get("TEST_POSTGRES_URL")
    if url is None:
        return None
    password = settings.secret("TEST_POSTGRES_PASSWORD")
    if password is not None:
        params = psycopg.conninfo.conninfo_to_dict(url)
        params["password"] = password
        url = psycopg.conninfo.make_conninfo(**params)
    return url


def in_ci():
    return settings.get("CI")


def unavailable(message):
    """Skip the test for want of ``message``'s part, or fail it with ``CI=true``: CI must never pass without it."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: not skipping)", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def server_for_tests(durable=False):
    """A ``PostgresServer`` on ``TEST_POSTGRES_URL``'s server, else on a throwaway one (``durable``: with
    fsync on); the databases created in it are dropped at the end. No server at all: the caller is
    skipped (failed with CI=true)."""
    url = server_url()
    with contextlib.ExitStack() as stack:
        if url is None:
            try:
                url = stack.enter_context(throwaway_postgres.running(durable))
            except throwaway_postgres.Unavailable as exc:
                unavailable(f"PostgreSQL is required: {exc}")
        server = PostgresServer(url)
        stack.callback(server.drop_all)
        yield server


class PostgresServer:
    def __init__(self, url):
        self.url = url
        self.created = []

    def _admin(self):
        return psycopg.connect(self.url, autocommit=True, connect_timeout=3)

    def create_database(self, prefix="thoughts_test"):
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        try:
            with self._admin() as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.OperationalError as exc:
            unavailable(f"PostgreSQL is required: {self.url}: {exc}".strip())
        self.created.append(name)
        base = psycopg.conninfo.conninfo_to_dict(self.url)
        base["dbname"] = name
        user = base.get("user", "postgres")
        password = f":{base['password']}" if base.get("password") else ""
        host, port = base.get("host", "127.0.0.1"), base.get("port", "5432")
        return f"postgresql+psycopg://{user}{password}@{host}:{port}/{name}"

    def drop_all(self):
        if not self.created:
            return
        with self._admin() as conn:
            for name in self.created:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.clear()
