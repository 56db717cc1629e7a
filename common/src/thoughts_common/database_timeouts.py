"""How long a service waits for PostgreSQL, and the psycopg connection that enforces it.

The chain, shortest first (each step must end before the next one gives up):
lock timeout < statement timeout < answer timeout (statement + 1 s, on the
client) < uWSGI ``harakiri`` (common/uwsgi/base.ini) < the frontend's
``BACKEND_TIMEOUT_SECONDS``. ``tests/test_timeout_chain.py`` checks it.

The statement and lock timeouts run in the server; they cannot help when the
network or the server stalls, because the query then never arrives or its
answer never leaves. The answer timeout is the client's own bound for every
round trip (connect excepted, bounded by ``connect_timeout``): it closes the
connection, so the pool drops it and the request answers 503.
"""

import dataclasses
import sqlite3

import psycopg

from thoughts_common import settings

FIELDS = {
    "connect": "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "statement": "DATABASE_STATEMENT_TIMEOUT_SECONDS",
    "lock": "DATABASE_LOCK_TIMEOUT_SECONDS",
    "keepalives_idle": "DATABASE_KEEPALIVES_IDLE_SECONDS",
    "keepalives_interval": "DATABASE_KEEPALIVES_INTERVAL_SECONDS",
    "keepalives_count": "DATABASE_KEEPALIVES_COUNT",
    "pool_size": "DATABASE_POOL_SIZE",
    "pool_wait": "DATABASE_POOL_WAIT_SECONDS",
}
# The declared defaults (thoughts_common.settings), by variable.
DEFAULTS = {name: settings.SETTINGS[name].default for name in FIELDS.values()}
ANSWER_MARGIN_SECONDS = 1.0
# A transaction left open by a vanished client must not hold locks for long.
IDLE_IN_TRANSACTION_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Timeouts:
    connect: float
    statement: float
    lock: float
    keepalives_idle: float
    keepalives_interval: float
    keepalives_count: int
    pool_size: int
    pool_wait: float

    @property
    def answer(self):
        """The client's bound on one round trip: the server's statement timeout fires first.

        None (no bound) when the statement timeout is 0, PostgreSQL's "none",
        e.g. for a long maintenance command.
        """
        return self.statement + ANSWER_MARGIN_SECONDS if self.statement > 0 else None

    def libpq_options(self, url_options=None):
        """``connect_args`` for psycopg; ``url_options`` (the URL's own ``options``) come first."""
        server = {
            "statement_timeout": self.statement,
            "lock_timeout": self.lock,
            "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_SECONDS,
        }
        settings = " ".join(f"-c {name}={round(seconds * 1000)}" for name, seconds in server.items())
        options = {
            # libpq counts whole seconds (and at least 2).
            "connect_timeout": max(2, round(self.connect)),
            "keepalives": 1,
            "keepalives_idle": round(self.keepalives_idle),
            "keepalives_interval": round(self.keepalives_interval),
            "keepalives_count": self.keepalives_count,
            "options": f"{url_options} {settings}" if url_options else settings,
        }
        if self.answer is not None:
            # Unacknowledged data for longer than the answer timeout: the peer is gone.
            options["tcp_user_timeout"] = round(self.answer * 1000)
        return options


def from_environment():
    return Timeouts(**{field: settings.get(name) for field, name in FIELDS.items()})


class AnswerDeadlineConnection(psycopg.Connection):
    """A psycopg connection that gives up on any round trip after ``answer_timeout`` seconds."""

    answer_timeout = None

    def wait(self, gen, *args, timeout=None, **kwargs):
        timeout = timeout if timeout is not None else self.answer_timeout
        try:
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        except psycopg.errors._WaitTimeout:  # psycopg's own (private) signal that `timeout` expired
            # The protocol is mid-exchange: the connection cannot be used again.
            self.close()
            raise psycopg.errors.ConnectionTimeout(f"no answer from the database within {timeout:g} s") from None


def connect(answer_timeout, *args, **kwargs):
    connection = AnswerDeadlineConnection.connect(*args, **kwargs)
    connection.answer_timeout = answer_timeout
    return connection


def is_unavailable_driver_error(error):
    """Driver errors that mean "down, unreachable or too slow": refused, timed out, cancelled, shut down."""
    if isinstance(error, psycopg.OperationalError):
        # Includes ConnectionTimeout, QueryCanceled (statement_timeout), LockNotAvailable
        # (lock_timeout), AdminShutdown and refused connections; syntax errors are ProgrammingError.
        return True
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
