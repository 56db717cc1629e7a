"""Real parts for the frontend's tests.

Both backends run under uWSGI (as ``make run`` starts them) on free ports,
each on a fresh SQLite database migrated and seeded with its own CLI, signing
and verifying tokens with the run's key pair; every service logs to one real
UDP syslog receiver. The Django test client talks to them over HTTP, and a
uWSGI-run frontend serves the tests that need the real server (browser,
metrics, request ids in syslog).
"""

import pytest
from frontend_testing import Api, start_backend, start_frontend

from thoughts_common.testing import services


@pytest.fixture(scope="session")
def backends(tmp_path_factory, key_files, syslog):
    """The users backend (sign-up on) and the thoughts backend, under uWSGI, with the demo data."""
    started = []
    try:
        # The in-process frontend calls the users backend from 127.0.0.1: trusted to forward the browser's address.
        users = start_backend(
            "users_backend",
            tmp_path_factory.mktemp("users"),
            key_files,
            syslog,
            FEATURE_SIGNUP="1",
            LOGIN_TRUSTED_PROXIES="127.0.0.1",
        )
        started.append(users)
        thoughts = start_backend("thoughts_backend", tmp_path_factory.mktemp("thoughts"), key_files, syslog)
        started.append(thoughts)
        for backend in started:
            backend.process.wait_healthy()
        yield {"users": users, "thoughts": thoughts}
    finally:
        for backend in started:
            backend.process.stop()


@pytest.fixture
def live(settings, backends, rsa_key_pair):
    """Point the in-process frontend (Django's test client) at the real backends."""
    settings.USER_BACKEND_URL = backends["users"].base
    settings.THOUGHTS_BACKEND_URL = backends["thoughts"].base
    settings.JWT_PUBLIC_KEY = rsa_key_pair[1]
    settings.BACKEND_TIMEOUT = 5.0
    settings.FEATURE_SIGNUP = False
    return settings


@pytest.fixture(scope="session")
def api(backends):
    return Api(backends)


@pytest.fixture
def login(client):
    """Log in through the frontend's own login page; returns the test client."""

    def do(username, password, **extra):
        response = client.post("/login/", {"username": username, "password": password}, **extra)
        assert response.status_code == 302, response.content.decode()
        return client

    return do


@pytest.fixture
def fresh_user(api, login):
    """A new user, logged in: (username, password, bearer header for the API)."""
    username, password = api.new_user()
    login(username, password)
    return username, password, api.token(username, password)


@pytest.fixture(scope="session")
def frontend_env(tmp_path_factory, backends, key_files, syslog):
    bases = (backends["users"].base, backends["thoughts"].base)
    return services.environment("frontend", tmp_path_factory.mktemp("frontend"), key_files, syslog.port, bases)


@pytest.fixture(scope="session")
def frontend_server(frontend_env):
    """The frontend under uWSGI with 2 workers, as ``make run`` starts it."""
    process = start_frontend(frontend_env)
    yield process
    process.stop()
