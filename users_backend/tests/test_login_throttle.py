"""Failed logins are throttled per username and per client address, in the database."""

import concurrent.futures
import datetime as dt
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from thoughts_common import contract, migrations
from thoughts_common.testing import services
from thoughts_common.testing.metrics import Samples, scrape
from users_backend import passwords, throttle
from users_backend.cli import MIGRATIONS
from users_backend.models import LoginFailures

BIN = Path(sys.executable).parent
LIMITS = throttle.Limits()
# The address tests use a lower address limit: every failure costs an argon2 verification.
ADDRESS_LIMIT = 8


@pytest.fixture
def low_address_limit(app):
    app.config["LOGIN_THROTTLE"] = throttle.Limits(per_address=ADDRESS_LIMIT)


@pytest.fixture
def bruce(make_user):
    return make_user("bruce", "bruce")


@pytest.fixture
def attempt(client):
    def do(username, password, address="198.51.100.7", headers=None):
        return client.post(
            "/api/login/",
            json={"username": username, "password": password},
            environ_base={"REMOTE_ADDR": address},
            headers=headers or {},
        )

    return do


@pytest.fixture
def verifications(monkeypatch):
    """How many times a password was checked (argon2 run) during the test."""
    calls = []
    real = passwords.verify

    def counting(password_hash, password):
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify", counting)
    return calls


def age(session, delta):
    """Move every recorded failure and block ``delta`` into the past, as if that time had gone by."""
    for row in session.scalars(select(LoginFailures)):
        row.last_failure -= delta
        if row.blocked_until is not None:
            row.blocked_until -= delta
    session.commit()


def fail(attempt, times, username="bruce", **kwargs):
    return [attempt(username, f"wrong-{i}", **kwargs).status_code for i in range(times)]


def test_the_sixth_wrong_password_is_429_with_retry_after(attempt, bruce):
    assert fail(attempt, 5) == [401] * 5

    response = attempt("bruce", "wrong-again")

    assert response.status_code == 429
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json() == {"message": "Too many failed logins, try again in 1 minute"}


def test_throttled_attempts_are_not_checked_and_not_counted(attempt, bruce, verifications, session):
    fail(attempt, 5)
    assert len(verifications) == 5

    statuses = fail(attempt, 15)
    response = attempt("bruce", "wrong-21")
    print(f"\n21st wrong password in a row: {response.status_code}, Retry-After {response.headers['Retry-After']}")

    assert statuses == [429] * 15
    assert response.status_code == 429
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert len(verifications) == 5
    failures = session.scalars(select(LoginFailures.failures).where(LoginFailures.scope == "username")).one()
    assert failures == 5


def test_the_right_password_during_a_block_is_429(attempt, bruce, verifications):
    fail(attempt, 5)
    response = attempt("bruce", "bruce")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert len(verifications) == 5


def test_the_delay_doubles_with_each_failure_after_a_block_up_to_the_cap(attempt, bruce, session):
    fail(attempt, 5)
    waits = []
    for _ in range(6):
        age(session, dt.timedelta(seconds=int(attempt("bruce", "x").headers["Retry-After"])))
        assert attempt("bruce", "still-wrong").status_code == 401
        waits.append(int(attempt("bruce", "x").headers["Retry-After"]))

    assert waits == pytest.approx([120, 240, 480, 900, 900, 900], abs=5)


def test_delays_of_the_default_limits():
    delays = [LIMITS.delay("username", n) for n in range(1, 11)]
    assert delays[:4] == [None] * 4
    assert [d.total_seconds() for d in delays[4:]] == [60, 120, 240, 480, 900, 900]
    assert LIMITS.delay("address", 19) is None
    assert LIMITS.delay("address", 20) == dt.timedelta(minutes=1)


def test_after_the_block_the_right_password_logs_in_and_resets_the_username(attempt, bruce, session):
    fail(attempt, 5)
    assert attempt("bruce", "bruce").status_code == 429
    age(session, dt.timedelta(seconds=61))

    assert attempt("bruce", "bruce").status_code == 200
    assert fail(attempt, 4) == [401] * 4
    assert attempt("bruce", "bruce").status_code == 200


def test_failures_older_than_the_window_are_forgotten(attempt, bruce, session):
    fail(attempt, 4)
    age(session, LIMITS.window + dt.timedelta(seconds=1))
    assert fail(attempt, 4) == [401] * 4
    assert attempt("bruce", "bruce").status_code == 200


def test_a_success_resets_the_username_only(attempt, bruce, session):
    fail(attempt, 4)
    assert attempt("bruce", "bruce").status_code == 200
    assert fail(attempt, 4) == [401] * 4
    rows = dict(session.execute(select(LoginFailures.scope, LoginFailures.failures)).all())
    assert rows == {"username": 4, "address": 8}


def test_the_address_limit_spans_usernames(attempt, bruce, low_address_limit):
    for i in range(ADDRESS_LIMIT):
        assert attempt(f"guess-{i}", "p").status_code == 401

    blocked = attempt("bruce", "bruce")
    assert blocked.status_code == 429
    assert 55 <= int(blocked.headers["Retry-After"]) <= 60
    # Another address and the user himself are not affected.
    assert attempt("bruce", "bruce", address="203.0.113.9").status_code == 200


def test_an_untrusted_peer_cannot_choose_its_address(attempt, bruce, low_address_limit):
    for i in range(ADDRESS_LIMIT):
        attempt(f"guess-{i}", "p", headers={"X-Forwarded-For": f"192.0.2.{i}"})
    assert attempt("bruce", "bruce", headers={"X-Forwarded-For": "192.0.2.200"}).status_code == 429


def test_a_trusted_proxy_forwards_the_client_address(app, attempt, bruce, low_address_limit):
    app.config["LOGIN_TRUSTED_PROXIES"] = throttle_proxies("10.0.0.0/8")
    frontend = "10.1.2.3"
    for i in range(ADDRESS_LIMIT):
        attempt(f"guess-{i}", "p", address=frontend, headers={"X-Forwarded-For": "192.0.2.50"})

    assert attempt("bruce", "bruce", address=frontend, headers={"X-Forwarded-For": "192.0.2.50"}).status_code == 429
    # Other browsers behind the same frontend still log in.
    assert attempt("bruce", "bruce", address=frontend, headers={"X-Forwarded-For": "192.0.2.51"}).status_code == 200


def throttle_proxies(value):
    from users_backend.client_address import trusted_proxies

    return trusted_proxies(value)


def test_a_throttled_attempt_is_counted_and_logged_without_the_password(attempt, bruce, client, caplog):
    def throttled():
        return Samples(client.get("/metrics").get_data(as_text=True)).value("logins_throttled_total", limit="username")

    fail(attempt, 5)
    before = throttled()  # the counter lives as long as the process, across tests
    with caplog.at_level(logging.WARNING, logger="users_backend.api_namespace"):
        attempt("bruce", "s3cret-guess")

    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "users_backend.api_namespace" and r.levelno == logging.WARNING
    ]
    assert len(lines) == 1
    assert re.fullmatch(
        r"Login throttled for user 'bruce' from 198\.51\.100\.7 \(username limit\), retry in \d+ s", lines[0]
    )
    assert "s3cret-guess" not in caplog.text
    assert throttled() - before == 1


def test_the_429_is_documented(client):
    spec = client.get("/swagger.json").get_json()
    login = spec["paths"]["/api/login/"]["post"]
    assert "429" in login["responses"]
    assert "Retry-After" in login["responses"]["429"]["headers"]
    assert "delete" in spec["paths"]["/admin/login-throttle/users/{username}"]
    assert "delete" in spec["paths"]["/admin/login-throttle/addresses/{address}"]


@pytest.mark.parametrize("kind", ["users", "addresses"])
def test_a_path_parameter_is_what_its_document_says(client, sign, kind):
    """One pattern, in the document and in the check: a name a path segment can carry, storable;
    its length inside the pattern, so that schemathesis generates such values without filtering."""
    spec = client.get("/swagger.json").get_json()
    path = f"/admin/login-throttle/{kind}/{{{'username' if kind == 'users' else 'address'}}}"
    (parameter,) = spec["paths"][path]["parameters"]
    assert parameter["pattern"] == contract.PATH_TEXT_PATTERN
    assert not {"minLength", "maxLength"} & parameter.keys()
    admin = {"Authorization": f"Bearer {sign({'username': 'root', 'role': 'admin'})}"}
    assert client.delete(f"/admin/login-throttle/{kind}/%20x%7B%7D", headers=admin).status_code == 204
    response = client.delete(f"/admin/login-throttle/{kind}/a%00b", headers=admin)
    assert response.status_code == 400
    assert "NUL" in response.get_json()["message"]
    # A username may hold a /, which a path segment cannot carry: the documented 404 of the router.
    assert "404" in spec["paths"][path]["delete"]["responses"]
    assert client.delete(f"/admin/login-throttle/{kind}/a%2Fb", headers=admin).status_code == 404


def test_an_admin_clears_a_username(attempt, bruce, client, sign):
    fail(attempt, 5)
    admin = {"Authorization": f"Bearer {sign({'username': 'root', 'role': 'admin'})}"}

    response = client.delete("/admin/login-throttle/users/bruce", headers=admin)

    assert response.status_code == 204
    assert attempt("bruce", "bruce").status_code == 200


def test_an_admin_clears_an_address(attempt, bruce, client, sign, low_address_limit):
    for i in range(ADDRESS_LIMIT):
        attempt(f"guess-{i}", "p", address="2001:db8::1")
    assert attempt("bruce", "bruce", address="2001:db8::2").status_code == 429  # same /64
    admin = {"Authorization": f"Bearer {sign({'username': 'root', 'role': 'admin'})}"}

    assert client.delete("/admin/login-throttle/addresses/2001:db8::99", headers=admin).status_code == 204
    assert attempt("bruce", "bruce", address="2001:db8::2").status_code == 200


@pytest.mark.parametrize("role", [None, "user"])
def test_clearing_needs_an_admin(attempt, bruce, client, sign, role):
    fail(attempt, 5)
    headers = {} if role is None else {"Authorization": f"Bearer {sign({'username': 'bruce'})}"}

    response = client.delete("/admin/login-throttle/users/bruce", headers=headers)

    assert response.status_code == (401 if role is None else 403)
    assert attempt("bruce", "bruce").status_code == 429


def test_the_cli_clears_a_username_and_an_address(attempt, bruce, database_url, low_address_limit):
    for i in range(ADDRESS_LIMIT):
        attempt("bruce", f"wrong-{i}") if i < 5 else attempt(f"guess-{i}", "p")
    assert attempt("bruce", "bruce").status_code == 429

    result = subprocess.run(
        [BIN / "users-backend", "clear-login-throttle", "--username", "bruce", "--address", "198.51.100.7"],
        env={"DATABASE_URL": database_url, "PATH": str(BIN)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "cleared 2 login throttle record(s)"
    assert attempt("bruce", "bruce").status_code == 200


def test_the_cli_needs_something_to_clear(database_url):
    result = subprocess.run(
        [BIN / "users-backend", "clear-login-throttle"],
        env={"DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "give --username, --address or both" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOGIN_THROTTLE_USERNAME_FAILURES", "five", "LOGIN_THROTTLE_USERNAME_FAILURES='five': Not a valid integer"),
        ("LOGIN_THROTTLE_WINDOW_SECONDS", "0", "LOGIN_THROTTLE_WINDOW_SECONDS='0': Must be greater than or equal to 1"),
        ("LOGIN_THROTTLE_MAX_DELAY_SECONDS", "7200", "must not exceed LOGIN_THROTTLE_WINDOW_SECONDS"),
    ],
)
def test_bad_settings_are_refused(name, value, message):
    with pytest.raises(throttle.SettingError, match=message):
        throttle.Limits.from_environment({name: value})


def test_two_uwsgi_workers_share_the_count(postgres_server, key_files, tmp_path):
    """Real uWSGI, 2 worker processes, PostgreSQL: failures seen by either worker add up."""
    url = postgres_server.create_database("users_throttle")
    migrations.upgrade(MIGRATIONS, url)
    env = services.environment("users_backend", tmp_path, key_files, DATABASE_URL=url)
    services.cli("users_backend", "seed-demo", env=env)
    server = services.start("users_backend", env)
    try:

        def wrong(i):
            answer = requests.post(f"{server.base}/api/login/", data={"username": "bruce", "password": f"x{i}"})
            return answer.status_code, answer.headers.get("Retry-After")

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            # Two at a time, so that both workers take some.
            first = list(pool.map(wrong, range(4)))
            fifth = wrong(4)
            after = list(pool.map(wrong, range(6)))
        right = requests.post(f"{server.base}/api/login/", data={"username": "bruce", "password": "bruce"})
        throttled = scrape(server.base).value("logins_throttled_total", limit="username")
    finally:
        server.stop()

    assert [status for status, _ in first] == [401] * 4
    assert fifth == (401, None)
    assert [status for status, _ in after] == [429] * 6
    assert all(55 <= int(retry) <= 60 for _, retry in after)
    assert right.status_code == 429
    assert throttled == 7
    writers = {p.name.rsplit("_", 1)[1] for p in (tmp_path / "metrics").glob("histogram_*.db")}
    assert len(writers) >= 2
