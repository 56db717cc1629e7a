import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from thoughts_common import database, migrations
from users_backend.cli import MIGRATIONS


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    return request.getfixturevalue("postgres_server").create_database("users_migrate")


def tables(url):
    engine = database.create(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def script_heads():
    return set(ScriptDirectory.from_config(migrations.config(MIGRATIONS, "sqlite://")).get_heads())


def test_upgrade_to_head_and_downgrade_to_base(empty_database):
    migrations.upgrade(MIGRATIONS, empty_database)
    assert {"users", "login_throttle", "alembic_version"} <= tables(empty_database)
    assert migrations.current_heads(MIGRATIONS, empty_database) == script_heads() == {"0003"}

    migrations.downgrade(MIGRATIONS, empty_database, "0001")
    assert "login_throttle" not in tables(empty_database)
    assert migrations.current_heads(MIGRATIONS, empty_database) == {"0001"}

    migrations.downgrade(MIGRATIONS, empty_database)
    assert "users" not in tables(empty_database)
    assert migrations.current_heads(MIGRATIONS, empty_database) == set()

    migrations.upgrade(MIGRATIONS, empty_database)
    assert "users" in tables(empty_database)


def test_models_match_the_migrations(empty_database):
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from users_backend.models import Base

    migrations.upgrade(MIGRATIONS, empty_database)
    engine = database.create(empty_database)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_0003_gives_existing_users_their_key_and_keeps_old_look_alikes_apart(empty_database):
    """Users made before 0003, two of them look-alikes: each gets a unique key, the oldest the plain one."""
    import sqlalchemy as sa

    migrations.upgrade(MIGRATIONS, empty_database, "0001")
    engine = database.create(empty_database)
    try:
        with engine.begin() as connection:
            for username in ("bruce", "Stephen", "BRUCE"):
                connection.execute(
                    sa.text(
                        "INSERT INTO users (username, password_hash, is_admin, creation) "
                        "VALUES (:username, 'x', false, CURRENT_TIMESTAMP)"
                    ),
                    {"username": username},
                )
        migrations.upgrade(MIGRATIONS, empty_database)
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, username, username_key FROM users ORDER BY id")).all()
            keys = {username: key for _, username, key in rows}
            assert keys["bruce"] == "bruce"
            assert keys["Stephen"] == "stephen"
            assert keys["BRUCE"] == f"bruce\n{rows[2].id}"
            with pytest.raises(sa.exc.IntegrityError):
                connection.execute(
                    sa.text(
                        "INSERT INTO users (username, username_key, password_hash, is_admin, creation) "
                        "VALUES ('Bruce', 'bruce', 'x', false, CURRENT_TIMESTAMP)"
                    )
                )
    finally:
        engine.dispose()
