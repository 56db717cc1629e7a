from werkzeug.exceptions import InternalServerError

from thoughts_common import logconfig


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.is_json and "message" in response.get_json()


def test_unexpected_exception_is_a_json_500_with_the_traceback_only_in_the_log(
    app, client, monkeypatch, syslog_receiver
):
    from users_backend import users

    def explode(*_args, **_kwargs):
        raise RuntimeError("database exploded: secret internals")

    monkeypatch.setattr(users, "authenticate", explode)
    monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
    monkeypatch.setenv("SYSLOG_PORT", str(syslog_receiver.port))
    logconfig.configure("users_backend")
    try:
        response = client.post("/api/login/", json={"username": "a", "password": "b"}, headers={"X-Request-ID": "boom"})
        syslog_receiver.wait_for("RESPONSE STATUS 500")
    finally:
        monkeypatch.delenv("SYSLOG_HOST")
        logconfig.configure("users_backend")

    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}
    assert "Traceback" not in response.get_data(as_text=True)
    assert "secret internals" not in response.get_data(as_text=True)
    errors = [line for line in syslog_receiver.snapshot() if " ERROR [boom] " in line]
    assert any("Traceback" in line and "database exploded" in line for line in errors)


def test_unexpected_exception_outside_the_api_is_json_too(app, client):
    def explode():
        raise RuntimeError("boom")

    app.view_functions["healthz"] = explode
    response = client.get("/healthz")
    assert response.status_code == 500
    assert response.get_json() == {"message": InternalServerError.description}
    assert "Traceback" not in response.get_data(as_text=True)
