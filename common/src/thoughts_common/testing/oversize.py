"""Oversized requests sent on a raw socket to a real server, and what each must answer.

Raw sockets, because the cases are about bytes on the wire: the exact request
line, a chunked body, a Content-Length that announces megabytes.
"""

import json
import socket
from urllib.parse import urlsplit

from thoughts_common import limits


def _chunked(body, size=16 * 1024):
    out = bytearray()
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


def _request(method, target, headers=(), body=b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + b"\r\n" + body


def cases(path):
    """Name -> (raw request, expected refusal) for ``path`` (a URL path that answers GET and POST)."""
    big_body = b"x" * (limits.MAX_BODY_BYTES + 1)
    return {
        "uri just over the limit": (
            _request("GET", path + "?search=" + "z" * (limits.MAX_URI_BYTES - len(path) - 7)),
            limits.URI_TOO_LONG,
        ),
        # The probe's case: uWSGI dropped this query string and the app listed everything.
        "query of 20 000 characters": (_request("GET", path + "?search=" + "z" * 20_000), limits.URI_TOO_LONG),
        "query too long for uwsgi's variables": (_request("GET", path + "?pad=" + "z" * 33_000), limits.URI_TOO_LONG),
        "long path": (_request("GET", "/" + "p" * 20_000), limits.URI_TOO_LONG),
        "one large header": (_request("GET", path, [("X-Padding", "h" * 20_000)]), limits.HEADERS_TOO_LARGE),
        "many headers": (
            _request("GET", path, [(f"X-Padding-{i}", "h" * 40) for i in range(500)]),
            limits.HEADERS_TOO_LARGE,
        ),
        "body with content-length": (
            _request("POST", path, [("Content-Type", "application/json"), ("Content-Length", len(big_body))], big_body),
            limits.BODY_TOO_LARGE,
        ),
        "20 MB body": (
            _request("POST", path, [("Content-Type", "application/json"), ("Content-Length", 20 * 2**20)])
            + b"x" * (20 * 2**20),
            limits.BODY_TOO_LARGE,
        ),
        "chunked body": (
            _request(
                "POST",
                path,
                [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                _chunked(big_body),
            ),
            limits.BODY_TOO_LARGE,
        ),
    }


class Answer:
    def __init__(self, raw):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0] else None
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def send(base, raw, timeout=10):
    """Send ``raw`` to the server at ``base`` (http://host:port) and read the whole answer."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
    return Answer(bytes(data))
