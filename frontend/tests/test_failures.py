"""A backend that is down, slow or broken is a clear page with 503/504/502 and an ERROR line.

The "backends" here are real sockets: a free port nobody listens on, a TCP
server that accepts and never answers, and a tiny HTTP server answering errors.
"""

import http.server
import logging
import socket
import threading
import time

import pytest

from thoughts_common.testing.network import free_port

pytestmark = pytest.mark.usefixtures("live")

TIMEOUT = 1.0


class SilentServer:
    """Accepts TCP connections and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.sock.close()
        for connection in self.accepted:
            connection.close()


class ErrorServer(http.server.ThreadingHTTPServer):
    """Answers every request with the given status and body."""

    def __init__(self, status, body, content_type="application/json"):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                outer.request_ids.append(self.headers.get("X-Request-ID"))
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.request_ids = []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def short_timeout(settings):
    settings.BACKEND_TIMEOUT = TIMEOUT


def errors(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_thoughts_backend_down(client, settings, caplog, short_timeout):
    settings.THOUGHTS_BACKEND_URL = f"http://127.0.0.1:{free_port()}"

    response, seconds = timed(lambda: client.get("/search", {"search": "x"}, HTTP_X_REQUEST_ID="down-1"))

    assert response.status_code == 503
    page = response.content.decode()
    assert "503 · Service unavailable" in page
    assert "The thoughts service cannot be reached. Please try again in a moment." in page
    assert "down-1" in page
    assert "Traceback" not in page
    assert seconds < TIMEOUT + 1
    assert any(m.startswith("Thoughts backend cannot be reached: GET http://127.0.0.1:") for m in errors(caplog))
    assert "RESPONSE STATUS 503" in errors(caplog)


def test_users_backend_down_on_login(client, settings, caplog, short_timeout):
    settings.USER_BACKEND_URL = f"http://127.0.0.1:{free_port()}"

    response = client.post("/login/", {"username": "bruce", "password": "bruce"})

    assert response.status_code == 503
    assert "The users service cannot be reached." in response.content.decode()
    assert any("Users backend cannot be reached: POST" in m for m in errors(caplog))
    # The password never reaches the logs, not even on failure.
    assert not any("bruce" in r.getMessage() and "password" in r.getMessage() for r in caplog.records)


def test_thoughts_backend_slow(client, login, settings, silent, caplog, short_timeout):
    login("bruce", "bruce")
    settings.THOUGHTS_BACKEND_URL = f"http://127.0.0.1:{silent.port}"

    for call in (lambda: client.get("/thoughts/"), lambda: client.post("/thoughts/new", {"text": "slow"})):
        response, seconds = timed(call)
        assert response.status_code == 504
        assert "504 · Gateway timeout" in response.content.decode()
        assert "The thoughts service did not answer in time." in response.content.decode()
        assert TIMEOUT * 0.9 <= seconds < TIMEOUT + 1.5

    messages = errors(caplog)
    assert any(
        m.startswith("Thoughts backend did not answer in time: GET") and "no answer within 1 s" in m for m in messages
    )
    assert any(m.startswith("Thoughts backend did not answer in time: POST") for m in messages)


def test_users_backend_slow(client, settings, silent, short_timeout):
    settings.USER_BACKEND_URL = f"http://127.0.0.1:{silent.port}"
    response, seconds = timed(lambda: client.post("/login/", {"username": "bruce", "password": "bruce"}))
    assert response.status_code == 504
    assert seconds < TIMEOUT + 1.5


@pytest.mark.parametrize(
    ("status", "body", "expected", "title"),
    [
        (500, '{"message": "Internal Server Error"}', 502, "Bad gateway"),
        (503, '{"message": "database unreachable"}', 503, "Service unavailable"),
        (200, "<html>not json</html>", 502, "Bad gateway"),
        (200, '{"not": "a list"}', 502, "Bad gateway"),
    ],
    ids=["500", "503", "html", "not-a-list"],
)
def test_thoughts_backend_broken(client, settings, caplog, status, body, expected, title):
    server = ErrorServer(status, body)
    settings.THOUGHTS_BACKEND_URL = server.url
    try:
        response = client.get("/search", {"search": "x"}, HTTP_X_REQUEST_ID="broken-1")
    finally:
        server.close()

    assert response.status_code == expected
    assert f"{expected} · {title}" in response.content.decode()
    assert server.request_ids == ["broken-1"]  # the id went along
    assert any(m.startswith("Thoughts backend") for m in errors(caplog))


def test_users_backend_5xx_on_login(client, settings):
    server = ErrorServer(500, '{"message": "Internal Server Error"}')
    settings.USER_BACKEND_URL = server.url
    try:
        response = client.post("/login/", {"username": "bruce", "password": "bruce"})
    finally:
        server.close()
    assert response.status_code == 502
    assert "The users service answered with an error." in response.content.decode()


def test_signup_when_the_users_backend_has_it_off(client, settings, caplog):
    settings.FEATURE_SIGNUP = True
    server = ErrorServer(404, '{"message": "Sign-up is not enabled"}')
    settings.USER_BACKEND_URL = server.url
    try:
        response = client.post("/signup/", {"username": "someone", "password": "a", "password2": "a"})
    finally:
        server.close()
    assert response.status_code == 503
    assert "Sign-up is not available right now." in response.content.decode()
    assert any("FEATURE_SIGNUP" in m for m in errors(caplog))
