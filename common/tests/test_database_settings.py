import re

import pytest
from sqlalchemy.engine import make_url

from thoughts_common import database, database_timeouts, settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in [
        "DATABASE_URL",
        "DATABASE_ENGINE",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_DB",
        "DATABASE_PASSWORD",
        "DATABASE_PASSWORD_FILE",
    ]:
        monkeypatch.delenv(name, raising=False)


def test_default_is_sqlite_under_var():
    assert database.database_url("users_backend") == "sqlite:///var/users_backend.sqlite3"


def test_database_url_wins_and_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/thoughts")
    monkeypatch.setenv("DATABASE_ENGINE", "POSTGRESQL")
    assert database.database_url("x") == "postgresql+psycopg://u:p@db:5432/thoughts"


def test_the_books_variables_keep_working(monkeypatch):
    monkeypatch.setenv("DATABASE_ENGINE", "POSTGRESQL")
    monkeypatch.setenv("POSTGRES_USER", "postgres")
    monkeypatch.setenv("POSTGRES_PASSWORD", "some p@ss/word")
    monkeypatch.setenv("POSTGRES_HOST", "db")
    monkeypatch.setenv("POSTGRES_DB", "thoughts")
    url = database.database_url("x")
    assert url == "postgresql+psycopg://postgres:some%20p%40ss%2Fword@db:5432/thoughts"
    from sqlalchemy.engine import make_url

    assert make_url(url).password == "some p@ss/word"


def test_password_from_a_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "postgres-password"
    secret.write_text("s3cr#t/pw\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db:5432/users")
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret))
    from sqlalchemy.engine import make_url

    url = make_url(database.database_url("x"))
    assert url.password == "s3cr#t/pw"
    assert (url.host, url.database, url.drivername) == ("db", "users", "postgresql+psycopg")


def test_password_from_the_variable_too(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db:5432/users")
    monkeypatch.setenv("DATABASE_PASSWORD", "pw from env")
    assert make_url(database.database_url("x")).password == "pw from env"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_ENGINE", "mysql", "DATABASE_ENGINE='mysql': Must be one of: SQLITE, POSTGRESQL."),
        ("POSTGRES_PORT", "54x", "POSTGRES_PORT='54x': Not a valid integer."),
    ],
)
def test_a_wrong_database_setting_names_itself(monkeypatch, name, value, message):
    monkeypatch.setenv("DATABASE_ENGINE", "postgresql")
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.SettingError, match="^" + re.escape(message)):
        database.database_url("x")


def test_a_wrong_timeout_names_itself(monkeypatch):
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "5s")
    with pytest.raises(settings.SettingError, match=r"^DATABASE_STATEMENT_TIMEOUT_SECONDS='5s': Not a valid number"):
        database_timeouts.from_environment()


def test_postgresql_gets_its_timeouts_and_keepalives_from_the_environment(monkeypatch):
    from thoughts_common import database_timeouts

    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("DATABASE_KEEPALIVES_IDLE_SECONDS", "7")
    engine = database.create("postgresql+psycopg://u@db:5432/thoughts?options=-c%20search_path%3Dapp")
    _, params = engine.dialect.create_connect_args(engine.url)
    options = database_timeouts.from_environment().libpq_options("-c search_path=app")
    assert options["options"] == (
        "-c search_path=app -c statement_timeout=3000 -c lock_timeout=2000 -c idle_in_transaction_session_timeout=60000"
    )
    assert options["keepalives"] == 1 and options["keepalives_idle"] == 7
    assert options["tcp_user_timeout"] == 4000
    assert options["connect_timeout"] == 2
    assert engine.pool.size() == 4
    assert params["dbname"] == "thoughts"


def test_a_statement_timeout_of_zero_turns_both_bounds_off(monkeypatch):
    from thoughts_common import database_timeouts

    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "0")
    timeouts = database_timeouts.from_environment()
    assert timeouts.answer is None
    assert "tcp_user_timeout" not in timeouts.libpq_options()
    assert "statement_timeout=0" in timeouts.libpq_options()["options"]


def test_sqlite_writes_ahead_and_syncs_every_commit(tmp_path):
    engine = database.create(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # 2 is FULL: the log is synced at each commit, so a power cut loses no acknowledged write.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    engine.dispose()
