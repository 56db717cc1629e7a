"""Every environment variable the Thoughts services read: name, kind, default, readers, meaning.

The reader with its rules is ``thoughts_common.settings``; the README's
configuration table is made from this list (``python -m thoughts_common.settings``).
"""

import dataclasses

USERS = "users backend"
THOUGHTS = "thoughts backend"
FRONTEND = "frontend"
BACKENDS = (USERS, THOUGHTS)
SERVICES = (USERS, THOUGHTS, FRONTEND)
UWSGI = "uWSGI"
TESTS = "tests"
BENCH = "make bench"
FEATURE_PREFIX = "FEATURE_"
FILE_SUFFIX = "_FILE"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # bool, int, float, str, list, choice, secret
    default: object
    readers: tuple
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()

    @property
    def names(self):
        "''The variables that give this setting: a secret also has ``NAME_FILE``.''"
        return (self.name, self.name + FILE_SUFFIX) if self.kind == "secret" else (self.name,)


def _setting(name, kind, default, readers, description, **limits):
    return Setting(
        name, kind, default, tuple(readers) if isinstance(readers, tuple) else (readers,), description, **limits
    )


DECLARED = [
    _setting(
        "DATABASE_URL",
        "str",
        None,
        BACKENDS,
        "SQLAlchemy URL, e.g. `postgresql://user@db:5432/users`; unset: the book's `DATABASE_ENGINE`, else "
        "`sqlite:///var/<service>.sqlite3`",
    ),
    _setting(
        "DATABASE_PASSWORD",
        "secret",
        None,
        BACKENDS,
        "the database password, put into the URL (a mounted secret: the URL can sit in a plain configuration file)",
    ),
    _setting(
        "DATABASE_ENGINE",
        "choice",
        "SQLITE",
        BACKENDS,
        "the book's switch: `POSTGRESQL` builds the URL from the `POSTGRES_*` settings when `DATABASE_URL` is unset",
        choices=("SQLITE", "POSTGRESQL"),
    ),
    _setting(
        "POSTGRES_USER",
        "str",
        "postgres",
        BACKENDS,
        "the book's database user (with `DATABASE_ENGINE=POSTGRESQL`)",
    ),
    _setting(
        "POSTGRES_PASSWORD",
        "str",
        None,
        BACKENDS,
        "the book's database password (with `DATABASE_ENGINE=POSTGRESQL`)",
    ),
    _setting(
        "POSTGRES_HOST",
        "str",
        "localhost",
        BACKENDS,
        "the book's database host (with `DATABASE_ENGINE=POSTGRESQL`)",
    ),
    _setting(
        "POSTGRES_PORT",
        "int",
        5432,
        BACKENDS,
        "the book's database port (with `DATABASE_ENGINE=POSTGRESQL`)",
        minimum=1,
        maximum=65535,
    ),
    _setting(
        "POSTGRES_DB",
        "str",
        "postgres",
        BACKENDS,
        "the book's database name (with `DATABASE_ENGINE=POSTGRESQL`)",
    ),
    _setting(
        "DATABASE_CONNECT_TIMEOUT_SECONDS",
        "float",
        2,
        BACKENDS,
        "PostgreSQL: give up connecting after this long (libpq `connect_timeout`, whole seconds, at least 2)",
        minimum=0,
    ),
    _setting(
        "DATABASE_STATEMENT_TIMEOUT_SECONDS",
        "float",
        5,
        BACKENDS,
        "PostgreSQL: the server cancels a statement after this long (`statement_timeout`); the client itself "
        "gives up on any answer 1 s later, which covers a stalled network or server; 0: no bound",
        minimum=0,
    ),
    _setting(
        "DATABASE_LOCK_TIMEOUT_SECONDS",
        "float",
        2,
        BACKENDS,
        "PostgreSQL: the server stops waiting for a lock after this long (`lock_timeout`)",
        minimum=0,
    ),
    _setting(
        "DATABASE_KEEPALIVES_IDLE_SECONDS",
        "float",
        30,
        BACKENDS,
        "PostgreSQL: TCP keepalives start after this long idle",
        minimum=0,
    ),
    _setting(
        "DATABASE_KEEPALIVES_INTERVAL_SECONDS",
        "float",
        10,
        BACKENDS,
        "PostgreSQL: seconds between TCP keepalives",
        minimum=0,
    ),
    _setting(
        "DATABASE_KEEPALIVES_COUNT",
        "int",
        3,
        BACKENDS,
        "PostgreSQL: unanswered TCP keepalives before the connection counts as lost",
        minimum=1,
    ),
    _setting(
        "DATABASE_POOL_SIZE",
        "int",
        4,
        BACKENDS,
        "PostgreSQL: connections per uWSGI worker (of its 8 threads, so that some stay free for `/healthz` "
        "and `/metrics` while the database stalls)",
        minimum=1,
    ),
    _setting(
        "DATABASE_POOL_WAIT_SECONDS",
        "float",
        0.5,
        BACKENDS,
        "PostgreSQL: how long a request waits for a free connection before answering 503",
        minimum=0,
    ),
    _setting(
        "JWT_PUBLIC_KEY",
        "secret",
        None,
        SERVICES,
        "PEM RSA public key that verifies tokens (PEM text may have literal `\\n`); read once at start, an "
        "invalid key stops the start",
    ),
    _setting(
        "JWT_PRIVATE_KEY",
        "secret",
        None,
        USERS,
        "PEM RSA private key (no passphrase) that signs tokens; read once at start, an invalid key stops the start",
    ),
    _setting(
        "JWT_LIFETIME_MINUTES",
        "int",
        120,
        USERS,
        "token lifetime; at most 1440 (24 h: `tokens.MAX_LIFETIME`)",
        minimum=1,
        maximum=1440,
    ),
    _setting(
        "JWT_ISSUER",
        "str",
        "thoughts-users-backend",
        SERVICES,
        "the `iss` claim the users backend signs and every service requires",
    ),
    _setting(
        "LOGIN_THROTTLE_USERNAME_FAILURES",
        "int",
        5,
        USERS,
        "failed logins after which a username is blocked",
        minimum=1,
    ),
    _setting(
        "LOGIN_THROTTLE_ADDRESS_FAILURES",
        "int",
        20,
        USERS,
        "failed logins after which a client address is blocked",
        minimum=1,
    ),
    _setting("LOGIN_THROTTLE_BASE_DELAY_SECONDS", "int", 60, USERS, "the first block", minimum=1),
    _setting(
        "LOGIN_THROTTLE_MAX_DELAY_SECONDS",
        "int",
        900,
        USERS,
        "the longest block (not more than the window)",
        minimum=1,
    ),
    _setting(
        "LOGIN_THROTTLE_WINDOW_SECONDS",
        "int",
        3600,
        USERS,
        "failures are forgotten after this long without one",
        minimum=1,
    ),
    _setting(
        "LOGIN_TRUSTED_PROXIES",
        "str",
        "",
        USERS,
        "addresses or networks (e.g. `10.0.0.0/8, 192.168.1.5`) whose `X-Forwarded-For` names the client "
        "address of a login; empty: the connection's address counts",
    ),
    _setting(
        "NEW_USER_PASSWORD",
        "str",
        None,
        USERS,
        "`users-backend create-user`: the password (asked for when unset)",
    ),
    _setting("SYSLOG_HOST", "str", None, (*SERVICES, UWSGI), "send logs to syslog over UDP; unset: stderr"),
    _setting("SYSLOG_PORT", "int", 5140, (*SERVICES, UWSGI), "the syslog port", minimum=1, maximum=65535),
    _setting(
        "LOG_LEVEL",
        "choice",
        "INFO",
        SERVICES,
        "the lowest level logged",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    ),
    _setting(
        "HTTP_BIND",
        "str",
        None,
        UWSGI,
        "address to listen on (defaults: frontend `127.0.0.1:8000`, thoughts backend `127.0.0.1:8001`, users "
        "backend `127.0.0.1:8002`)",
    ),
    _setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "str",
        None,
        (*SERVICES, UWSGI),
        "folder where the workers share their metrics (uWSGI default: `/tmp/<service>-metrics`); cleaned at "
        "start; at each scrape the files of workers that are gone (crash, harakiri, recycling) are folded "
        "into one archive per kind (`thoughts_common.metrics_files`), so it holds the live workers' files and"
        " the archives, and totals stay exact",
    ),
    _setting(
        "METRICS_ENABLED",
        "bool",
        True,
        SERVICES,
        "`false` turns Prometheus metrics off: no `/metrics` (404) and no per-request metric work (`make "
        "bench` measures the difference)",
    ),
    _setting(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "str",
        None,
        (*SERVICES, BENCH),
        "turns tracing on: spans go over OTLP/HTTP to `<endpoint>/v1/traces` (e.g. `http://127.0.0.1:4318`; "
        "Jaeger's collector), and log lines gain the trace id; unset: no tracing and nothing of OpenTelemetry "
        "loaded. OpenTelemetry's own `OTEL_*` variables (e.g. `OTEL_TRACES_SAMPLER`) apply; `make bench` passes it "
        "to the services it measures with logs and metrics on",
    ),
    _setting(
        "OTEL_SERVICE_NAME",
        "str",
        None,
        SERVICES,
        "the service's name in the traces; unset: its syslog tag (`frontend`, `thoughts_backend`, `users_backend`)",
    ),
    _setting(
        "FEATURE_SIGNUP",
        "bool",
        False,
        (USERS, FRONTEND),
        "public sign-up at `POST /api/users/` and the frontend's sign-up page (feature flags: `FEATURE_<NAME>`)",
    ),
    _setting(
        "DJANGO_SECRET_KEY",
        "secret",
        None,
        FRONTEND,
        "Django's secret key; required (for development: `thoughts-frontend secret-key var/keys/django-secret-key`)",
    ),
    _setting("DJANGO_DEBUG", "bool", False, FRONTEND, "Django's debug mode"),
    _setting(
        "DJANGO_ALLOWED_HOSTS",
        "list",
        "127.0.0.1,localhost,[::1]",
        FRONTEND,
        "host names the frontend answers, separated by commas",
    ),
    _setting(
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "list",
        "",
        FRONTEND,
        "origins (e.g. `https://thoughts.example.com`) trusted for form posts, separated by commas",
    ),
    _setting(
        "DJANGO_HTTPS",
        "bool",
        False,
        FRONTEND,
        "behind a TLS-terminating proxy: trust its `X-Forwarded-Proto` and mark cookies Secure",
    ),
    _setting(
        "DJANGO_STATIC_ROOT",
        "str",
        None,
        FRONTEND,
        "folder `collectstatic` fills (optional: WhiteNoise serves the apps' static folders)",
    ),
    _setting("THOUGHTS_BACKEND_URL", "str", "http://127.0.0.1:8001", FRONTEND, "the thoughts backend"),
    _setting("USER_BACKEND_URL", "str", "http://127.0.0.1:8002", FRONTEND, "the users backend"),
    _setting(
        "BACKEND_TIMEOUT_SECONDS",
        "float",
        20,
        FRONTEND,
        "seconds to connect to a backend and, separately, to wait for its answer (above the backends' uWSGI harakiri)",
        minimum=0.001,
    ),
    _setting("FRONTEND_PAGE_SIZE", "int", 20, FRONTEND, "thoughts per page", minimum=1),
    _setting(
        "CI",
        "bool",
        False,
        TESTS,
        "tests that need PostgreSQL (or another real part) fail instead of being skipped when it is missing",
    ),
    _setting(
        "TEST_POSTGRES_URL",
        "str",
        None,
        TESTS,
        "the PostgreSQL server the tests create their databases in; unset: a throwaway server of their own "
        "(`make test` starts one for all its suites)",
    ),
    _setting("TEST_POSTGRES_PASSWORD", "secret", None, TESTS, "its password"),
    _setting(
        "BENCH_ROWS",
        "int",
        10000,
        BENCH,
        "thoughts in the dataset; `BENCH_DB=postgresql BENCH_ROWS=1_000_000` loads in about a minute",
        minimum=200,
    ),
    _setting(
        "BENCH_DB",
        "choice",
        "SQLITE",
        BENCH,
        "`SQLITE` (files in the temporary folder) or `POSTGRESQL` (`TEST_POSTGRES_URL`, else a throwaway server)",
        choices=("SQLITE", "POSTGRESQL"),
    ),
    _setting("BENCH_DURATION", "int", 10, BENCH, "seconds of wrk per endpoint", minimum=1),
    _setting("BENCH_CONNECTIONS", "int", 16, BENCH, "wrk's connections", minimum=1),
    _setting(
        "BENCH_PROFILE",
        "bool",
        False,
        BENCH,
        "instead of the table, each service runs one worker with one thread, every request under cProfile "
        "(bench/profiled.py), and the bench prints per endpoint the profiled ms per request and the top functions "
        "(the `.prof` files are kept in `BENCH_OUTPUT`)",
    ),
    _setting("BENCH_OUTPUT", "str", "test-artifacts/bench", BENCH, "where the table and the profiles are written"),
]
SETTINGS = {setting.name: setting for setting in DECLARED}
