import uuid

import pytest

from thoughts_common import logconfig


def is_uuid4(value):
    try:
        return uuid.UUID(value).version == 4
    except ValueError:
        return False


def test_generated_when_absent(client):
    response = client.get("/healthz")
    assert is_uuid4(response.headers["X-Request-ID"])


@pytest.mark.parametrize("value", ["abc", "a" * 64, "Req-1.2_3", "0"])
def test_kept_when_valid(client, value):
    assert client.get("/healthz", headers={"X-Request-ID": value}).headers["X-Request-ID"] == value


@pytest.mark.parametrize(
    "value",
    ["a" * 65, "has space", "semi;colon", "tab\there", "uni\u00e9", "a,b", "x" * 10000, "<script>"],
    ids=["too-long", "space", "semicolon", "control", "non-ascii", "comma", "huge", "html"],
)
def test_replaced_when_hostile(client, value):
    returned = client.get("/healthz", headers={"X-Request-ID": value}).headers["X-Request-ID"]
    assert returned != value
    assert is_uuid4(returned)


def test_empty_header_is_replaced(client):
    assert is_uuid4(client.get("/healthz", headers={"X-Request-ID": ""}).headers["X-Request-ID"])


def test_every_log_line_of_the_request_carries_the_id(app, client, make_user, syslog_receiver, monkeypatch):
    make_user("bruce", "bruce")
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    logconfig.configure("users_backend")
    try:
        response = client.post(
            "/api/login/", data={"username": "bruce", "password": "bruce"}, headers={"X-Request-ID": "trace-42"}
        )
        syslog_receiver.wait_for("RESPONSE STATUS 200")
    finally:
        monkeypatch.delenv("SYSLOG_HOST")
        logconfig.configure("users_backend")

    assert response.headers["X-Request-ID"] == "trace-42"
    lines = syslog_receiver.snapshot()
    assert len(lines) >= 4
    for line in lines:
        assert line.startswith("users_backend: [")
        assert " [trace-42] " in line
    assert any("INFO [trace-42] service: REQUEST POST /api/login/" in line for line in lines)
    assert any("RESPONSE TIME" in line and line.rstrip().endswith("ms") for line in lines)
    assert any("Login succeeded for user bruce" in line for line in lines)
    # Neither the password nor the token may reach the logs.
    token = response.get_json()["Authorized"].split(" ")[1]
    assert not any(token in line or "password=bruce" in line for line in lines)


def test_hostile_id_never_reaches_the_logs(client, syslog_receiver, monkeypatch):
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    logconfig.configure("users_backend")
    try:
        # A raw environ value: test clients refuse newlines in headers, attackers do not.
        response = client.get("/nowhere", environ_overrides={"HTTP_X_REQUEST_ID": "evil\nINFO forged line"})
        syslog_receiver.wait_for("RESPONSE STATUS 404")
    finally:
        monkeypatch.delenv("SYSLOG_HOST")
        logconfig.configure("users_backend")

    new_id = response.headers["X-Request-ID"]
    assert is_uuid4(new_id)
    lines = syslog_receiver.snapshot()
    assert all(f"[{new_id}]" in line for line in lines)
    assert not any("forged" in line for line in lines)
    # A 4xx is not an ERROR.
    assert any("WARNING" in line and "RESPONSE STATUS 404" in line for line in lines)
    assert not any(" ERROR " in line for line in lines)
