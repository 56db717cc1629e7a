"""One request id across the frontend and the backends, read back from a real UDP syslog receiver."""

import uuid

import pytest
import requests
from frontend_testing import browser_login

from thoughts_common import logconfig, request_id


@pytest.mark.usefixtures("live")
class TestInProcess:
    def test_every_frontend_line_of_a_request_carries_its_id(self, client, caplog):
        caplog.set_level("INFO")
        caplog.handler.addFilter(logconfig.ContextFilter())  # the id as our log handler sees it

        client.get("/search", {"search": "anything"}, HTTP_X_REQUEST_ID="in-process-7")

        formatter = logconfig.SafeFormatter(logconfig.FORMAT)
        lines = [formatter.format(record) for record in caplog.records]
        assert lines and all(" [in-process-7] " in line for line in lines)
        assert any("INFO [in-process-7] middleware: REQUEST GET /search?search=anything" in line for line in lines)
        assert any("[in-process-7] backends: Thoughts backend: GET /api/thoughts/ -> 200" in line for line in lines)
        assert any("[in-process-7] middleware: RESPONSE STATUS 200" in line for line in lines)

    def test_the_id_is_cleared_after_the_request(self, client):
        client.get("/healthz", HTTP_X_REQUEST_ID="gone-afterwards")
        assert request_id.get() == request_id.NO_REQUEST


def test_one_click_is_one_id_in_all_three_services(frontend_server, syslog):
    """Log in, then list: the frontend's and each backend's lines carry the browser's id."""
    base = frontend_server.base
    login_id, list_id = f"e2e-login-{uuid.uuid4().hex[:8]}", f"e2e-list-{uuid.uuid4().hex[:8]}"
    with requests.Session() as browser:
        response = browser_login(browser, base, "bruce", "bruce", **{"X-Request-ID": login_id})
        assert response.status_code == 302
        assert response.headers["X-Request-ID"] == login_id
        token = browser.cookies["session"]

        listing = browser.get(f"{base}/thoughts/", headers={"X-Request-ID": list_id})
        assert listing.status_code == 200
        assert listing.headers["X-Request-ID"] == list_id

    # Login: frontend -> users backend.
    syslog.wait_for("frontend: ", f"[{login_id}]", "RESPONSE STATUS 302")
    syslog.wait_for("users_backend: ", f"[{login_id}]", "Login succeeded for user bruce")
    assert syslog.containing("frontend: ", f"INFO [{login_id}] middleware: REQUEST POST /login/")
    assert syslog.containing("frontend: ", f"[{login_id}] session: User bruce logged in")

    # The list: frontend -> thoughts backend.
    syslog.wait_for("frontend: ", f"[{list_id}]", "RESPONSE STATUS 200")
    syslog.wait_for("thoughts_backend: ", f"[{list_id}]", "RESPONSE STATUS 200")
    assert syslog.containing("thoughts_backend: ", f"[{list_id}]", "REQUEST GET /api/me/thoughts/")
    assert syslog.containing("frontend: ", f"INFO [{list_id}] middleware: REQUEST GET /thoughts/")
    assert syslog.containing("frontend: ", f"[{list_id}] middleware: RESPONSE TIME ")

    tagged = {line.split(":", 1)[0] for line in syslog.containing(f"[{login_id}]") + syslog.containing(f"[{list_id}]")}
    assert tagged == {"frontend", "users_backend", "thoughts_backend"}
    # The book's line format: "<tag>: [time] LEVEL [request_id] module: message".
    for line in syslog.containing("frontend: ", f"[{list_id}]"):
        assert line.startswith("frontend: [")
        assert f"] INFO [{list_id}] " in line
    # Neither the password nor the token reach any log.
    everything = syslog.snapshot()
    assert not any(token in line for line in everything)
    assert not any("password=bruce" in line for line in everything)
