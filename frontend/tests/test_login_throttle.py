"""The users backend's 429 (too many failed logins) is a clear login page with 429, never a 502."""

import html
import http.server
import json
import threading

import pytest

pytestmark = pytest.mark.usefixtures("live")


def shown(response, text):
    return html.escape(text) in response.content.decode()


def test_too_many_wrong_passwords_say_how_long_to_wait(client, api, syslog):
    username, password = api.new_user()
    browser = "192.0.2.44"
    for i in range(5):
        wrong = client.post("/login/", {"username": username, "password": f"wrong-{i}"}, REMOTE_ADDR=browser)
        assert wrong.status_code == 401

    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=browser)

    assert response.status_code == 429
    assert 55 <= int(response["Retry-After"]) <= 60
    assert shown(response, "Too many attempts, try again in 1 minute.")
    assert f'value="{username}"' in response.content.decode()
    assert "session" not in response.cookies
    # The users backend counted the browser's address, forwarded by the frontend.
    assert syslog.wait_for("users_backend: ", f"Login throttled for user '{username}' from {browser}")


class ThrottlingServer(http.server.ThreadingHTTPServer):
    """A users backend that answers every login with 429 and the given Retry-After."""

    def __init__(self, retry_after):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.dumps({"message": "Too many failed logins"}).encode()
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.mark.parametrize(
    ("retry_after", "message", "header"),
    [
        ("900", "Too many attempts, try again in 15 minutes.", "900"),
        ("61", "Too many attempts, try again in 2 minutes.", "61"),
        ("Wed, 21 Oct 2026 07:28:00 GMT", "Too many attempts, try again later.", None),
        (None, "Too many attempts, try again later.", None),
    ],
)
def test_the_wait_is_told_in_minutes(client, settings, retry_after, message, header):
    server = ThrottlingServer(retry_after)
    settings.USER_BACKEND_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        response = client.post("/login/", {"username": "bruce", "password": "bruce"})
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 429
    assert shown(response, message)
    assert response.get("Retry-After") == header
