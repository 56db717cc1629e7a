import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from thoughts_backend import textsearch, thoughts
from thoughts_backend.cli import MIGRATIONS
from thoughts_backend.paging import Page
from thoughts_common import database, migrations

TRIGRAM_INDEX = "ix_thoughts_text_trgm"
SQLITE_INDEX = "thoughts_search"
USERNAME_INDEX = "ix_thoughts_username_id"
OLD_USERNAME_INDEX = "ix_thoughts_username"


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
    assert migrations.current_heads(MIGRATIONS, empty_database) == {"0004"}
    assert USERNAME_INDEX in indexes(engine)

    migrations.downgrade(MIGRATIONS, empty_database)
    inspector = inspect(engine)
    assert "thoughts" not in inspector.get_table_names()
    assert migrations.current_heads(MIGRATIONS, empty_database) == set()

    migrations.upgrade(MIGRATIONS, empty_database)
    assert "thoughts" in inspect(engine).get_table_names()


def test_models_match_the_migrations(empty_database, engine_for):
    """Autogenerate finds nothing to do: the models and the migrations agree.

    The trigram indexes (PostgreSQL's GIN index, SQLite's FTS5 table and its
    shadow tables) are deliberately not in the models.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from thoughts_backend.models import Base

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return not name.startswith(SQLITE_INDEX)
        return not (type_ == "index" and name == TRIGRAM_INDEX)

    migrations.upgrade(MIGRATIONS, empty_database)
    with engine_for(empty_database).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include})
        assert compare_metadata(context, Base.metadata) == []


def index_columns(engine):
    return {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("thoughts")}


def test_0004_puts_the_id_into_the_username_index_and_downgrade_takes_it_out(empty_database, engine_for):
    engine = engine_for(empty_database)
    migrations.upgrade(MIGRATIONS, empty_database, "0003")
    assert index_columns(engine)[OLD_USERNAME_INDEX] == ["username"]

    migrations.upgrade(MIGRATIONS, empty_database)
    columns = index_columns(engine)
    assert columns[USERNAME_INDEX] == ["username", "id"]
    assert OLD_USERNAME_INDEX not in columns

    migrations.downgrade(MIGRATIONS, empty_database, "0003")
    columns = index_columns(engine)
    assert columns[OLD_USERNAME_INDEX] == ["username"]
    assert USERNAME_INDEX not in columns


def test_sqlite_gets_no_gin_index(tmp_path, engine_for):
    url = f"sqlite:///{tmp_path / 'trgm.sqlite3'}"
    migrations.upgrade(MIGRATIONS, url)
    assert indexes(engine_for(url)) == {USERNAME_INDEX}


@pytest.fixture
def postgres_url(postgres_server):
    return postgres_server.create_database("thoughts_trgm")


def index_state(engine, name):
    """(valid, definition) of the index, None when there is none."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name"
            ),
            {"name": name},
        ).one_or_none()


def test_postgresql_gets_a_valid_trigram_index_and_loses_it_on_downgrade(postgres_url, engine_for):
    engine = engine_for(postgres_url)
    migrations.upgrade(MIGRATIONS, postgres_url)

    valid, definition = index_state(engine, TRIGRAM_INDEX)
    assert valid
    assert "USING gin" in definition and "gin_trgm_ops" in definition
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")).scalar() == 1

    migrations.downgrade(MIGRATIONS, postgres_url, "0001")
    assert index_state(engine, TRIGRAM_INDEX) is None
    assert "thoughts" in inspect(engine).get_table_names()


@pytest.mark.parametrize(("index", "built_by"), [(TRIGRAM_INDEX, "0002"), (USERNAME_INDEX, "0004")])
def test_an_invalid_index_left_by_an_interrupted_build_is_rebuilt(postgres_url, engine_for, index, built_by):
    engine = engine_for(postgres_url)
    migrations.upgrade(MIGRATIONS, postgres_url)
    # What a CREATE INDEX CONCURRENTLY that failed half-way leaves behind.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = CAST(:name AS regclass)"),
            {"name": index},
        )
    command.stamp(migrations.config(MIGRATIONS, postgres_url), str(int(built_by) - 1).zfill(4))
    assert index_state(engine, index)[0] is False

    migrations.upgrade(MIGRATIONS, postgres_url)

    assert index_state(engine, index)[0] is True


ROWS = 1_000_000


def test_search_on_a_million_rows_uses_the_trigram_index(postgres_url):
    """The migration runs on a populated table (as it would in production), then EXPLAIN ANALYZE the real query.

    With ``ORDER BY id LIMIT n`` the planner may walk the primary key and filter
    every row instead; for a rare word it must not.
    """
    # Without the service's deadlines: filling a million rows takes longer than a request may.
    engine = create_engine(postgres_url, poolclass=NullPool)
    migrations.upgrade(MIGRATIONS, postgres_url, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO thoughts (username, text, timestamp) "
                "SELECT 'user' || (i % 1000), 'thought ' || i || ' about ' "
                "|| (ARRAY['coffee', 'rain', 'code', 'the night'])[i % 4 + 1], "
                "now() AT TIME ZONE 'UTC' FROM generate_series(1, :rows) AS i"
            ),
            {"rows": ROWS},
        )
        connection.execute(
            text("INSERT INTO thoughts (username, text, timestamp) VALUES ('bruce', 'A PLATYPUS!', now())")
        )
    migrations.upgrade(MIGRATIONS, postgres_url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE thoughts"))

    for after in (0, ROWS // 2):
        statement = thoughts.search_statement("platypus", Page(after=after), "postgresql")
        compiled = statement.compile(dialect=engine.dialect)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}", compiled.params)
            plan = "\n".join(row[0] for row in rows)
            found = connection.execute(statement).all()

        assert TRIGRAM_INDEX in plan, plan
        assert "Seq Scan" not in plan, plan
        assert "thoughts_pkey" not in plan, plan
        assert [row.text for row in found] == ["A PLATYPUS!"]
    engine.dispose()


def sqlite_objects(engine):
    with engine.connect() as connection:
        return {
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE 'thoughts_search%' AND type IN ('table', 'trigger')"
            )
        }


def indexed(engine):
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT rowid, text FROM thoughts_search ORDER BY rowid").all()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'fts.sqlite3'}"


def test_sqlite_index_is_filled_from_existing_rows_and_kept_in_step(sqlite_url, engine_for):
    engine = engine_for(sqlite_url)
    textsearch.install(engine)
    migrations.upgrade(MIGRATIONS, sqlite_url, "0002")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO thoughts (username, text, timestamp) VALUES ('bruce', 'CAFÉ ᏣᎳᎩ', '2026-01-01 00:00:00')"
        )

    migrations.upgrade(MIGRATIONS, sqlite_url)

    assert indexed(engine) == [(1, "café ꮳꮃꭹ")]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO thoughts (username, text, timestamp) VALUES ('bruce', 'Second', '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql("UPDATE thoughts SET text = 'ÉTÉ' WHERE id = 1")
    assert indexed(engine) == [(1, "été"), (2, "second")]
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM thoughts WHERE id = 2")
    assert indexed(engine) == [(1, "été")]
    with engine.connect() as connection:
        integrity = "INSERT INTO thoughts_search (thoughts_search, rank) VALUES ('integrity-check', 1)"
        connection.exec_driver_sql(integrity)


def test_sqlite_index_goes_on_downgrade_and_old_code_writes_on(sqlite_url, engine_for):
    migrations.upgrade(MIGRATIONS, sqlite_url)
    assert sqlite_objects(engine_for(sqlite_url)) >= {
        "thoughts_search",
        "thoughts_search_insert",
        "thoughts_search_update",
        "thoughts_search_delete",
    }

    migrations.downgrade(MIGRATIONS, sqlite_url, "0002")

    engine = engine_for(sqlite_url)
    assert sqlite_objects(engine) == set()
    # Without triggers a writer needs no unicode_lower.
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO thoughts (username, text, timestamp) VALUES ('b', 'x', '2026-01-01')")


def sqlite_plan(engine, term):
    statement = thoughts.search_statement(term, Page(), "sqlite")
    compiled = statement.compile(dialect=engine.dialect)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
        return "\n".join(row[-1] for row in rows)


def test_sqlite_search_walks_the_index_for_three_characters_or_more(sqlite_url, engine_for):
    engine = engine_for(sqlite_url)
    textsearch.install(engine)
    migrations.upgrade(MIGRATIONS, sqlite_url)

    plan = sqlite_plan(engine, "platypus")
    assert "VIRTUAL TABLE" in plan and "thoughts_search" in plan, plan
    assert "SCAN thoughts" not in plan.replace("SCAN thoughts_search", ""), plan
    assert "TEMP B-TREE" not in plan, plan
    # Two characters make no trigram: every row is looked at.
    assert "thoughts_search" not in sqlite_plan(engine, "pl")
