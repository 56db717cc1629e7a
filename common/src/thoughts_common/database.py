"""SQLAlchemy engine and per-request sessions from the 12-factor settings."""

from pathlib import Path
from urllib.parse import quote

from flask import g
from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from thoughts_common import database_timeouts, settings

CONNECT_TIMEOUT_SECONDS = 2


def database_url(default_sqlite_name):
    """``DATABASE_URL``, else the book's ``DATABASE_ENGINE`` + ``POSTGRES_*``, else SQLite in var/.

    ``DATABASE_PASSWORD`` or ``DATABASE_PASSWORD_FILE`` (a mounted secret)
    supplies the password, so the URL itself can sit in a plain configuration file.
    """
    url = _configured_url(default_sqlite_name)
    password = settings.secret("DATABASE_PASSWORD")
    if password is not None:
        url = make_url(url).set(password=password).render_as_string(hide_password=False)
    return url


def _configured_url(default_sqlite_name):
    url = settings.get("DATABASE_URL")
    if url:
        return normalise(url)
    if settings.get("DATABASE_ENGINE") == "POSTGRESQL":
        user = quote(settings.get("POSTGRES_USER"), safe="")
        password = settings.get("POSTGRES_PASSWORD")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        host, port, name = settings.get("POSTGRES_HOST"), settings.get("POSTGRES_PORT"), settings.get("POSTGRES_DB")
        return f"postgresql+psycopg://{auth}@{host}:{port}/{name}"
    return f"sqlite:///var/{default_sqlite_name}.sqlite3"


def normalise(url):
    """Use psycopg 3 for plain ``postgres://`` and ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create(url):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_write_ahead_log)
        return engine
    timeouts = database_timeouts.from_environment()
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=timeouts.pool_size,
        max_overflow=0,
        pool_timeout=timeouts.pool_wait,
        connect_args=timeouts.libpq_options(parsed.query.get("options")),
    )

    @event.listens_for(engine, "do_connect")
    def _connect_with_answer_deadline(_dialect, _record, cargs, cparams):
        return database_timeouts.connect(timeouts.answer, *cargs, **cparams)

    return engine


def _sqlite_write_ahead_log(dbapi_connection, _record):
    """Write-ahead log, still synced at every commit (an acknowledged write survives a crash).

    With SQLite's default rollback journal a commit writes and syncs two files;
    with the WAL it appends to one, and readers no longer wait for a writer.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def is_unavailable(error):
    """True when ``error`` means the database is down, unreachable or too slow (answer 503), not a bug."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection free in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    return database_timeouts.is_unavailable_driver_error(error.orig)


class Database:
    """An engine plus a session per Flask request (closed at teardown)."""

    def __init__(self, url):
        self.url = url
        self.engine = create(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def init_app(self, app):
        app.extensions["database"] = self

        @app.teardown_appcontext
        def _close_session(_exc):
            session = g.pop("db_session", None)
            if session is not None:
                session.close()

    def session(self):
        if "db_session" not in g:
            g.db_session = self.sessionmaker()
        return g.db_session

    def ping(self):
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self):
        self.engine.dispose()
