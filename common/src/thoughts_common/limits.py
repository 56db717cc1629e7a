"""Request size limits, the same for the three services, and the WSGI middleware that enforces them.

uWSGI's http-socket (2.0.31) reads at most 64 KB of request line and headers
and turns them into at most 64 KB of WSGI variables, with the URI counted
again in PATH_INFO and QUERY_STRING. A head over 64 KB, or headers whose
variables do not fit, get a closed connection; a QUERY_STRING that does not
fit is dropped with a warning in uWSGI's log and the request goes on without
it (a 20 KB query string reached the app as no query at all). So the
middleware answers long URIs (414), large headers (431) and large bodies (413)
itself, well below those sizes, and refuses any request whose query string did
not arrive whole.
"""

import io
import json
import logging
from typing import NamedTuple
from urllib.parse import quote

from thoughts_common import request_id

logger = logging.getLogger(__name__)

MAX_URI_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
# A body over the maximum is read and thrown away up to this size: a client
# still sending it would otherwise see "connection reset" instead of the 413.
DRAIN_BYTES = 32 * 1024 * 1024
_READ_SIZE = 64 * 1024


class Refusal(NamedTuple):
    status: int
    reason: str
    message: str


URI_TOO_LONG = Refusal(414, "URI Too Long", f"The request URI is longer than {MAX_URI_BYTES} bytes.")
HEADERS_TOO_LARGE = Refusal(
    431, "Request Header Fields Too Large", f"The request headers are larger than {MAX_HEADER_BYTES} bytes in all."
)
BODY_TOO_LARGE = Refusal(413, "Content Too Large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")


def _under_uwsgi(environ):
    return "uwsgi.version" in environ


def request_uri(environ):
    """The URI as the client sent it: uWSGI's and Werkzeug's REQUEST_URI, else rebuilt (Django's test client)."""
    if "REQUEST_URI" in environ:
        return environ["REQUEST_URI"]
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~%")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _uri_arrived_whole(environ):
    """False when uWSGI dropped a variable of the request line for want of room."""
    if not _under_uwsgi(environ):
        return True
    uri = environ.get("REQUEST_URI")
    if uri is None or "PATH_INFO" not in environ:
        return False
    _, has_query, query = uri.partition("?")
    # uWSGI adds QUERY_STRING only when the URI has one; dropped, it is simply missing.
    return environ.get("QUERY_STRING", "") == (query if has_query else "")


def header_bytes(environ):
    """The size of the request headers as sent: ``Name: value`` plus CRLF for each."""
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key[5:] if key.startswith("HTTP_") else key
            total += len(name) + len(value) + 4
    return total


def check_head(environ):
    """The refusal the request line and headers earn, or None."""
    if len(request_uri(environ)) > MAX_URI_BYTES or not _uri_arrived_whole(environ):
        return URI_TOO_LONG
    if header_bytes(environ) > MAX_HEADER_BYTES:
        return HEADERS_TOO_LARGE
    return None


def _is_chunked(environ):
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _chunk_reader(environ):
    """A function returning the next piece of a chunked body, b"" at its end."""
    if _under_uwsgi(environ):
        import uwsgi  # only importable inside uWSGI

        # uWSGI's http-socket leaves wsgi.input empty for chunked bodies; its chunked API reads them.
        return uwsgi.chunked_read
    stream = environ["wsgi.input"]
    return lambda: stream.read(_READ_SIZE)


def _drain(read, limit):
    drained = 0
    while drained < limit:
        piece = read()
        if not piece:
            return
        drained += len(piece)


def limit_body(environ):
    """BODY_TOO_LARGE for a body over the maximum, or None.

    A chunked body under the maximum is read whole and handed on with a
    Content-Length: WSGI apps (Flask, Django) read bodies by Content-Length.
    """
    if _is_chunked(environ):
        read = _chunk_reader(environ)
        body = bytearray()
        while len(body) <= MAX_BODY_BYTES:
            piece = read()
            if not piece:
                break
            body += piece
        if len(body) > MAX_BODY_BYTES:
            _drain(read, DRAIN_BYTES - len(body))
            return BODY_TOO_LARGE
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # the framework answers a malformed Content-Length
    if length > MAX_BODY_BYTES:
        stream = environ["wsgi.input"]
        remaining = min(length, DRAIN_BYTES)

        def read():
            nonlocal remaining
            piece = stream.read(min(_READ_SIZE, remaining)) if remaining > 0 else b""
            remaining -= len(piece)
            return piece

        _drain(read, DRAIN_BYTES)
        return BODY_TOO_LARGE
    return None


def json_page(refusal):
    return "application/json", json.dumps({"message": refusal.message}).encode()


class RequestLimits:
    """WSGI middleware: refuses oversized requests before the app parses anything.

    ``page(refusal)`` gives the content type and body of the answer (JSON for
    the backends, HTML for the frontend).
    """

    def __init__(self, app, page=json_page):
        self.app = app
        self.page = page

    def __call__(self, environ, start_response):
        refusal = check_head(environ) or limit_body(environ)
        if refusal is None:
            return self.app(environ, start_response)
        rid = request_id.accept_or_create(environ.get(request_id.WSGI_KEY))
        token = request_id.current.set(rid)
        try:
            logger.warning(
                "REFUSED %d %s %s (%d bytes of URI)",
                refusal.status,
                environ.get("REQUEST_METHOD", "-"),
                environ.get("PATH_INFO", "")[:200],
                len(request_uri(environ)),
            )
        finally:
            request_id.current.reset(token)
        content_type, body = self.page(refusal)
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            (request_id.HEADER, rid),
        ]
        start_response(f"{refusal.status} {refusal.reason}", headers)
        return [body]
