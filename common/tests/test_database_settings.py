import pytest

from thoughts_common import database


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
