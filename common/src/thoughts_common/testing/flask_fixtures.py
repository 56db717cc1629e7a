"""Fixtures of both Flask backends' tests, for their conftest to import.

The conftest makes ``database_url`` with ``migrated_databases`` and defines
``app`` with ``emptied_app``; ``client`` and ``session`` come from here.
"""

import contextlib

import pytest
from sqlalchemy import delete

from thoughts_common import migrations


def migrated_databases(migrations_dir, prefix):
    """A session fixture ``database_url``: a migrated database per engine, a SQLite file and a fresh PostgreSQL one."""

    @pytest.fixture(scope="session", params=["sqlite", "postgresql"], name="database_url")
    def database_url(request, tmp_path_factory):
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / f'{prefix}.sqlite3'}"
        else:
            url = request.getfixturevalue("postgres_server").create_database(f"{prefix}_test")
        migrations.upgrade(migrations_dir, url)
        return url

    return database_url


@contextlib.contextmanager
def emptied_app(create_app, config, *models):
    """The app of ``create_app(config)`` with the rows of ``models`` deleted; its database disposed afterwards."""
    app = create_app(config)
    database = app.extensions["database"]
    with database.sessionmaker() as session:
        for model in models:
            session.execute(delete(model))
        session.commit()
    try:
        yield app
    finally:
        database.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    with app.extensions["database"].sessionmaker() as session:
        yield session
