import pytest
from alembic import command
from sqlalchemy import inspect, text

from thoughts_backend import thoughts
from thoughts_backend.cli import MIGRATIONS
from thoughts_backend.paging import Page
from thoughts_common import database, migrations

TRIGRAM_INDEX = "ix_thoughts_text_trgm"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database("thoughts_migrate")


@pytest.fixture
def engine_for():
    engines = []

    def make(url):
        engines.append(database.create(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def indexes(engine):
    return {index["name"] for index in inspect(engine).get_indexes("thoughts")}


def test_upgrade_to_head_and_downgrade_to_base(empty_database, engine_for):
    engine = engine_for(empty_database)
    migrations.upgrade(MIGRATIONS, empty_database)
    assert {"thoughts", "alembic_version"} <= set(inspect(engine).get_table_names())
    assert migrations.current_heads(MIGRATIONS, empty_database) == {"0002"}
    assert "ix_thoughts_username" in indexes(engine)

    migrations.downgrade(MIGRATIONS, empty_database)
    inspector = inspect(engine)
    assert "thoughts" not in inspector.get_table_names()
    assert migrations.current_heads(MIGRATIONS, empty_database) == set()

    migrations.upgrade(MIGRATIONS, empty_database)
    assert "thoughts" in inspect(engine).get_table_names()


def test_models_match_the_migrations(empty_database, engine_for):
    """Autogenerate finds nothing to do: the models and the migrations agree.

    The trigram index is PostgreSQL's alone and deliberately not in the models.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from thoughts_backend.models import Base

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "index" and name == TRIGRAM_INDEX)

    migrations.upgrade(MIGRATIONS, empty_database)
    with engine_for(empty_database).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_gets_no_trigram_index(tmp_path, engine_for):
    url = f"sqlite:///{tmp_path / 'trgm.sqlite3'}"
    migrations.upgrade(MIGRATIONS, url)
    assert indexes(engine_for(url)) == {"ix_thoughts_username"}


@pytest.fixture
def postgres_url(postgres_server):
    return postgres_server.create_database("thoughts_trgm")


def trigram_index(engine):
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name"
            ),
            {"name": TRIGRAM_INDEX},
        ).one_or_none()


def test_postgresql_gets_a_valid_trigram_index_and_loses_it_on_downgrade(postgres_url, engine_for):
    engine = engine_for(postgres_url)
    migrations.upgrade(MIGRATIONS, postgres_url)

    valid, definition = trigram_index(engine)
    assert valid
    assert "USING gin" in definition and "gin_trgm_ops" in definition
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")).scalar() == 1

    migrations.downgrade(MIGRATIONS, postgres_url, "0001")
    assert trigram_index(engine) is None
    assert "thoughts" in inspect(engine).get_table_names()


def test_an_invalid_index_left_by_an_interrupted_build_is_rebuilt(postgres_url, engine_for):
    engine = engine_for(postgres_url)
    migrations.upgrade(MIGRATIONS, postgres_url)
    # What a CREATE INDEX CONCURRENTLY that failed half-way leaves behind.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = CAST(:name AS regclass)"),
            {"name": TRIGRAM_INDEX},
        )
    command.stamp(migrations.config(MIGRATIONS, postgres_url), "0001")
    assert trigram_index(engine)[0] is False

    migrations.upgrade(MIGRATIONS, postgres_url)

    assert trigram_index(engine)[0] is True


def test_search_on_100000_rows_uses_the_trigram_index(postgres_url, engine_for):
    """The migration runs on a populated table (as it would in production), then EXPLAIN the real query."""
    engine = engine_for(postgres_url)
    migrations.upgrade(MIGRATIONS, postgres_url, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO thoughts (username, text, timestamp) "
                "SELECT 'user' || (i % 1000), 'thought number ' || i || ' about ' || md5(i::text), "
                "now() AT TIME ZONE 'UTC' FROM generate_series(1, 100000) AS i"
            )
        )
        connection.execute(
            text("INSERT INTO thoughts (username, text, timestamp) VALUES ('bruce', 'A PLATYPUS!', now())")
        )
    migrations.upgrade(MIGRATIONS, postgres_url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE thoughts"))

    statement = thoughts.search_statement("platypus", Page(), "postgresql")
    compiled = statement.compile(dialect=engine.dialect)
    with engine.connect() as connection:
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
        found = connection.execute(statement).all()

    assert TRIGRAM_INDEX in plan, plan
    assert "Seq Scan" not in plan, plan
    assert [row.text for row in found] == ["A PLATYPUS!"]
