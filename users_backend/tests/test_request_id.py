"""A login's log lines; request ids as every service handles them are tested in tests/services."""

from thoughts_common import logconfig


def test_a_login_is_logged_with_its_id_and_without_secrets(app, client, make_user, syslog_receiver, monkeypatch):
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
