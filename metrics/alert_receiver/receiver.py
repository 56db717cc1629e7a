"""A tiny Alertmanager webhook receiver for the native run: every alert to a JSON Lines file.

    python metrics/alert_receiver/receiver.py [--bind 127.0.0.1] [--port 9095] [--output var/alerts/alerts.jsonl]

Alertmanager POSTs a group of alerts as JSON (webhook_config); each alert of
the group becomes one line of the output file, with the time it was received
and the group's receiver name added. ``GET /`` shows the last alerts,
``GET /healthz`` answers ``ok``. Python's standard library only.
"""

import argparse
import json
import signal
import sys
import threading
from collections import deque
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY_BYTES = 1024 * 1024
RECENT = 50


class AlertLog:
    """Appends alerts to a JSON Lines file and remembers the last few."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.recent = deque(maxlen=RECENT)
        self._lock = threading.Lock()

    def append(self, payload):
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        entries = [
            {"receivedAt": received_at, "receiver": payload.get("receiver"), **alert} for alert in payload["alerts"]
        ]
        lines = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as output:
                output.write(lines)
            self.recent.extend(entries)
        return len(entries)

    def last(self):
        with self._lock:
            return list(self.recent)


def valid_payload(payload):
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("alerts"), list)
        and all(isinstance(alert, dict) for alert in payload["alerts"])
    )


class Handler(BaseHTTPRequestHandler):
    server_version = "thoughts-alert-receiver"

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._reply(HTTPStatus.LENGTH_REQUIRED, {"message": "Content-Length needed"})
        if length > MAX_BODY_BYTES:
            return self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "body too large"})
        try:
            payload = json.loads(self.rfile.read(length))
        except (UnicodeDecodeError, ValueError):
            return self._reply(HTTPStatus.BAD_REQUEST, {"message": "body is not JSON"})
        if not valid_payload(payload):
            return self._reply(HTTPStatus.BAD_REQUEST, {"message": "expected Alertmanager's webhook JSON"})
        written = self.server.alert_log.append(payload)
        return self._reply(HTTPStatus.OK, {"written": written})

    def do_GET(self):
        if self.path == "/healthz":
            return self._reply(HTTPStatus.OK, {"status": "ok"})
        if self.path in ("/", "/alerts"):
            return self._reply(HTTPStatus.OK, self.server.alert_log.last())
        return self._reply(HTTPStatus.NOT_FOUND, {"message": "not found"})

    def _reply(self, status, body):
        data = json.dumps(body, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write(f"alert_receiver: {self.address_string()} {fmt % args}\n")


def make_server(bind, port, output):
    server = ThreadingHTTPServer((bind, port), Handler)
    server.daemon_threads = True
    server.alert_log = AlertLog(output)
    return server


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9095, help="port to listen on (default 9095)")
    parser.add_argument("--output", default="var/alerts/alerts.jsonl", help="JSON Lines file to append alerts to")
    args = parser.parse_args(argv)

    server = make_server(args.bind, args.port, args.output)
    host, port = server.server_address[:2]
    # A process runner's SIGTERM ends it like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"alert_receiver: listening on http://{host}:{port}/, writing {args.output}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
