"""Logging in the book's format, to syslog over UDP or to stderr.

``[time] LEVEL [request_id] module: message``, tagged with the service name so
that rsyslog files each line under its program. With tracing on
(thoughts_common.tracing) the trace id follows the request id:
``[time] LEVEL [request_id] [trace_id] module: message``.
"""

import logging
import logging.handlers
import re
import socket
import sys
import time

from thoughts_common import request_id, settings, tracing

FORMAT = "[%(asctime)s] %(levelname)s [%(request_id)s] %(module)s: %(message)s"
TRACED_FORMAT = "[%(asctime)s] %(levelname)s [%(request_id)s] [%(trace_id)s] %(module)s: %(message)s"
# A longer line does not fit in one UDP datagram (65 507 bytes) and was lost
# without a trace; rsyslog (logs/rsyslog.conf) takes up to 64 KB.
MAX_LINE_BYTES = 60_000

# Second line of defence: credentials must never be logged, even by mistake.
_SECRETS = [
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"\b((?:password|passwd|secret|token)=)[^&\s]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r'("(?:password|passwd|secret|token)"\s*:\s*")[^"]*', re.IGNORECASE), r"\1[redacted]"),
]


# Each pattern above needs one of these (case-folded) in the line; most lines have none,
# and looking for them is ten times cheaper than running the four patterns.
_SECRET_HINTS = ("bearer", "eyj", "pass", "secret", "token")


def redact(text):
    folded = text.casefold()
    if not any(hint in folded for hint in _SECRET_HINTS):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def truncate(line, limit=MAX_LINE_BYTES):
    """``line`` cut to at most ``limit`` bytes of UTF-8, with a marker saying how much was cut."""
    encoded = line.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return line
    kept = encoded[: limit - 40].decode("utf-8", "ignore")
    return f"{kept}… [truncated {len(line) - len(kept)} chars]"


class ContextFilter(logging.Filter):
    """Adds the current request id to every record."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class TracedContextFilter(ContextFilter):
    """Adds the current request id and trace id to every record."""

    def filter(self, record):
        record.trace_id = tracing.trace_id()
        return super().filter(record)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_controls(text):
    """Newlines and other control characters as escapes: user input cannot forge lines."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SafeFormatter(logging.Formatter):
    """One record, one line: control characters escaped, credentials scrubbed, length capped.

    Tracebacks keep their newlines (rsyslog stores them as #012).
    """

    def formatMessage(self, record):
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def format(self, record):
        return truncate(redact(super().format(record)))


class TaggedSysLogHandler(logging.handlers.SysLogHandler):
    """SysLogHandler over UDP that names its program (Python's sends no tag).

    The receiver's name is looked up once every ``RESOLVE_EVERY_SECONDS``, not
    for every line: given a name, Python's handler asks the resolver (in
    containers, a DNS server) with each datagram it sends. Measured in a
    container on a podman network, logging to ``syslog`` by name: 140 to 190 µs
    per line with Python's handler, 15 to 20 µs with this one. A receiver that
    moves (a recreated container) is found again within that time.

    A receiver whose name does not resolve yet (its container or pod starts
    after ours) does not stop the service: lines are dropped, with one warning
    on stderr, and every line tries the name again, so logging resumes by itself.
    Once it has resolved, a failed lookup keeps the address it had.
    """

    RESOLVE_EVERY_SECONDS = 10.0

    def __init__(self, tag, host, port):
        self._warned = False
        self._receiver = (host, port)
        self._resolved_at = None
        super().__init__(address=(host, port), facility=self.LOG_USER, socktype=socket.SOCK_DGRAM)
        self.ident = f"{tag}: "

    def createSocket(self):
        # Python raises socket.gaierror here, from the constructor too; emit() calls
        # this again while self.socket is None.
        try:
            super().createSocket()
        except OSError as exc:
            self._warn(exc)

    def _warn(self, exc):
        if not self._warned:
            self._warned = True
            host, port = self._receiver
            sys.stderr.write(f"syslog receiver {host}:{port} unreachable ({exc}); log lines are dropped until it is\n")

    def _resolve(self):
        now = time.monotonic()
        if self._resolved_at is not None and now - self._resolved_at < self.RESOLVE_EVERY_SECONDS:
            return
        host, port = self._receiver
        family = self.socket.family if self.socket is not None else socket.AF_UNSPEC
        try:
            [(_, _, _, _, address), *_] = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)
        except OSError as exc:
            if self._resolved_at is None:
                self._warn(exc)
            return
        self.address = address
        self._resolved_at = now

    def emit(self, record):
        self._resolve()
        if self._resolved_at is not None:
            super().emit(record)

    def handleError(self, record):
        # A syslog receiver that is down must never break a request.
        pass


def response_level(status):
    """The level of a ``RESPONSE STATUS`` line: 4xx are WARNING, never ERROR; 5xx are ERROR."""
    if status >= 500:
        return logging.ERROR
    return logging.WARNING if status >= 400 else logging.INFO


def syslog_address():
    host = settings.get("SYSLOG_HOST")
    if not host:
        return None
    return host, settings.get("SYSLOG_PORT")


def configure(tag, level=None):
    """Configure the root logger for a service; safe to call more than once."""
    level = (level or settings.get("LOG_LEVEL")).upper()
    address = syslog_address()
    if address:
        handler = TaggedSysLogHandler(tag, *address)
    else:
        handler = logging.StreamHandler(sys.stderr)
    traced = tracing.enabled()
    handler.setFormatter(SafeFormatter(TRACED_FORMAT if traced else FORMAT))
    handler.addFilter(TracedContextFilter() if traced else ContextFilter())
    handler.thoughts_handler = True

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "thoughts_handler", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    # Werkzeug's own access log would duplicate our REQUEST/RESPONSE lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return handler
