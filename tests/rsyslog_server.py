"""rsyslogd as the services' syslog server, started through logs/run-rsyslog.sh on a free port."""

import contextlib
import re
import socket
import uuid
from pathlib import Path

from repository_paths import LOGS

from thoughts_common import request_id
from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.processes import ServerProcess

# A line of the rsyslog file from one of our services:
# `<timestamp> <tag>: [<time>] LEVEL [<request id>] <module>: <message>` (the book's format),
# with tracing on `... [<request id>] [<trace id>] <module>: ...` (32 hex digits, or `-` outside a trace).
LOG_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d) (?P<tag>[\w.-]+): "
    r"\[(?P<logtime>[^]]+)\] (?P<level>[A-Z]+) \[(?P<request_id>[^]]+)\] (?:\[(?P<trace_id>[0-9a-f]{32}|-)\] )?"
    r"(?P<module>\S+): (?P<message>.*)$"
)


class RsyslogServer:
    """rsyslogd started through logs/run-rsyslog.sh with its file and work folder under ``folder``.

    ``stop_daemon()`` and ``start()`` stop and start rsyslogd again on the same
    port and file (as when the syslog server of a running system goes away and
    comes back); ``stop()`` ends it for good.
    """

    def __init__(self, folder, rsyslogd, rotate_bytes=5_000_000, health_filter="on"):
        self.port = free_port(socket.SOCK_DGRAM)
        self.file = Path(folder) / "log" / "syslog"
        self.env = {
            "SYSLOG_BIND_ADDRESS": "127.0.0.1",
            "SYSLOG_PORT": str(self.port),
            "SYSLOG_FILE": str(self.file),
            "SYSLOG_WORKDIR": str(Path(folder) / "work"),
            "SYSLOG_ROTATE_BYTES": str(rotate_bytes),
            "SYSLOG_HEALTH_FILTER": health_filter,
            "RSYSLOGD": rsyslogd,
        }
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.server = None
        try:
            self.start()
        except BaseException:
            self.stop()
            raise

    def start(self):
        """Start rsyslogd (again) and wait until it writes the file."""
        self.server = ServerProcess(["sh", str(LOGS / "run-rsyslog.sh")], env=self.env)
        self._wait_ready()
        return self

    def running(self):
        return self.server is not None and self.server.process.poll() is None

    def send_raw(self, text):
        self.sock.sendto(text.encode(), ("127.0.0.1", self.port))

    def _wait_ready(self, timeout=15):
        marker = f"rsyslog-ready-{uuid.uuid4().hex}"

        def written():
            if self.server.process.poll() is not None:
                raise RuntimeError(f"rsyslogd exited:\n{self.server.read_output()}")
            self.send_raw(f"<14>observability_test: {marker}")
            return marker in self.text()

        wait_until(written, timeout, interval=0.2, message="rsyslogd writing its file")

    def text(self, path=None):
        path = path or self.file
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def lines(self, path=None):
        return self.text(path).splitlines()

    def wait_for(self, needle, timeout=10):
        return wait_until(
            lambda: [line for line in self.lines() if needle in line], timeout, message=f"{needle!r} in the log file"
        )

    def stop_daemon(self):
        """Stop rsyslogd (SIGTERM); ``start()`` brings it back on the same port and file."""
        if self.server is not None:
            self.server.stop()

    def stop(self):
        self.stop_daemon()
        self.sock.close()


@contextlib.contextmanager
def request_id_set(value):
    """Log as if inside a request with this id."""
    token = request_id.current.set(value)
    try:
        yield
    finally:
        request_id.current.reset(token)
