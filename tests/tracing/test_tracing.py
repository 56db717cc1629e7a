"""Tracing for real: the three services under uWSGI with OTEL_EXPORTER_OTLP_ENDPOINT pointed at an
OTLP/HTTP receiver (tests/otlp_receiver.py), logging to rsyslogd; a browser logs in and opens its
thoughts. Each click is one trace: the frontend's server span, its call to a backend, the backend's
server span and its SQL, linked parent to child (the W3C traceparent reached the backend), with the
request id as an attribute, and the trace id in both services' lines of rsyslog's file.

The batch processors wait a minute before sending: the spans arrive only because a graceful stop
flushes them. With tracing off, no OpenTelemetry module is loaded in a service process.
"""

import json
import re
import secrets
import subprocess
import sys
import uuid

import frontend_testing as ft
import pytest
import requests
from otlp_receiver import OtlpReceiver
from repository_paths import ROOT
from rsyslog_server import LOG_LINE
from running_system import Browser

from thoughts_common import tracing
from thoughts_common.testing import services
from thoughts_common.testing.network import wait_until

SERVER, CLIENT = 2, 3  # OTLP's span kinds
SERVICES = ("users_backend", "thoughts_backend", "frontend")
ARTIFACTS = ROOT / "test-artifacts" / "tracing"


@pytest.fixture
def receiver():
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


def traced_env(receiver):
    # Only a graceful stop sends the spans (the flush at exit is under test too).
    return {tracing.ENDPOINT: receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "60000"}


@pytest.fixture
def clicks(receiver, start_rsyslog, key_files, tmp_path):
    """Log in and open "my thoughts" with tracing on; the services are stopped gracefully before it returns."""
    rsyslog = start_rsyslog()
    started = []
    try:
        backends = {}
        for name in ("users_backend", "thoughts_backend"):
            (tmp_path / name).mkdir()
            backends[name] = ft.start_backend(name, tmp_path / name, key_files, rsyslog, **traced_env(receiver))
            started.append(backends[name].process)
        for backend in backends.values():
            backend.process.wait_healthy()
            assert requests.get(f"{backend.base}/readyz", timeout=5).status_code == 200
        frontend = ft.start_frontend(
            services.environment(
                "frontend",
                tmp_path / "frontend",
                key_files,
                rsyslog.port,
                backends=(backends["users_backend"].base, backends["thoughts_backend"].base),
                **traced_env(receiver),
            )
        )
        started.append(frontend)

        browser = Browser(frontend.base)
        login_id, page_id = (f"tracing-{what}-{uuid.uuid4().hex[:12]}" for what in ("login", "page"))
        assert browser.login("bruce", "bruce", request_id=login_id).status_code == 302
        page = browser.get("/thoughts/", request_id=page_id)
        assert page.status_code == 200 and "bruce" in page.text
        assert receiver.spans() == [], "spans sent before the stop: the batch delay is not the one set"
    finally:
        stopped = [process.stop() for process in reversed(started)]
    assert [code for code, _seconds in stopped] == [0] * len(started), [p.read_output() for p in started]
    return {"users_backend": login_id, "thoughts_backend": page_id}, rsyslog


def one_trace(spans, request_id):
    """The spans of the trace whose frontend server span has ``request_id``."""
    roots = [
        span
        for span in spans
        if span.service == "frontend"
        and span.kind == SERVER
        and span.attributes.get(tracing.REQUEST_ID_ATTRIBUTE) == request_id
    ]
    assert len(roots) == 1, (request_id, roots)
    assert roots[0].parent_span_id == ""
    return roots[0], [span for span in spans if span.trace_id == roots[0].trace_id]


def chain(span, by_id):
    """``span`` and its ancestors, nearest first."""
    found = [span]
    while found[-1].parent_span_id:
        found.append(by_id[found[-1].parent_span_id])
    return found


def lines_of(rsyslog, request_id, tags):
    def logged():
        lines = [LOG_LINE.match(line) for line in rsyslog.text().splitlines() if request_id in line]
        assert all(lines), "a line not in the book's format"
        return lines if {line["tag"] for line in lines} >= set(tags) else None

    return wait_until(logged, 15, interval=0.2, message=f"the lines of {request_id} from {tags}")


def test_readiness_probes_are_not_traced(clicks, receiver):
    """The clicks fixture probed each backend's /readyz: its database ping is no trace of its own."""
    spans = receiver.spans()
    assert spans
    roots = [span for span in spans if not span.parent_span_id]
    assert {(span.service, span.kind) for span in roots} == {("frontend", SERVER)}, [
        (span.service, span.name) for span in roots
    ]


def test_one_click_is_one_trace_through_frontend_backend_and_sql(clicks, receiver):
    request_ids, rsyslog = clicks
    spans = receiver.spans()
    by_id = {span.span_id: span for span in spans}
    report = []
    for backend, request_id in request_ids.items():
        root, trace = one_trace(spans, request_id)
        report += [f"{request_id} trace {root.trace_id}"] + [
            f"  {span.service}: {span.name} ({span.duration_ms:.1f} ms)" for span in trace
        ]

        backend_servers = [span for span in trace if span.service == backend and span.kind == SERVER]
        assert len(backend_servers) == 1, [(span.service, span.name) for span in trace]
        server = backend_servers[0]
        # traceparent arrived beside X-Request-ID: the backend's span is the child of the frontend's call.
        call, parent = chain(server, by_id)[1:3]
        assert (call.service, call.kind, parent) == ("frontend", CLIENT, root)
        assert server.attributes[tracing.REQUEST_ID_ATTRIBUTE] == request_id

        sql = [span for span in trace if span.service == backend and span.kind == CLIENT]
        assert sql, f"no SQL span under {backend}'s {server.name}"
        assert all(server in chain(span, by_id) for span in sql)
        assert any(span.attributes.get("db.statement", span.name).upper().startswith("SELECT") for span in sql)

        lines = lines_of(rsyslog, request_id, ("frontend", backend))
        assert {line["trace_id"] for line in lines} == {root.trace_id}, [line.group(0) for line in lines]
        assert {line["tag"] for line in lines} == {"frontend", backend}

    # The span names and durations, for a reader (test-artifacts/tracing/sample-trace.txt).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "sample-trace.txt").write_text("\n".join(report) + "\n")


PROBE = """
import json, sys
from werkzeug.test import Client
module, attribute = sys.argv[1].split(":")
app = getattr(__import__(module, fromlist=[attribute]), attribute)
status = Client(app).get("/healthz").status_code
print(json.dumps([status, sorted(name for name in sys.modules if name.split(".")[0] == "opentelemetry")]))
"""
APPS = {
    "users_backend": "users_backend.wsgi:app",
    "thoughts_backend": "thoughts_backend.wsgi:app",
    "frontend": "mythoughts.wsgi:application",
}


@pytest.mark.parametrize("on", [False, True], ids=["off", "on"])
@pytest.mark.parametrize("service", SERVICES)
def test_with_tracing_off_no_opentelemetry_module_is_loaded_and_lines_are_the_books(
    service, on, receiver, key_files, tmp_path
):
    env = services.clean_environ(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        JWT_PRIVATE_KEY_FILE=key_files[0],
        JWT_PUBLIC_KEY_FILE=key_files[1],
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_SETTINGS_MODULE="mythoughts.settings",
        PROMETHEUS_MULTIPROC_DIR=tmp_path / "metrics",
        **({tracing.ENDPOINT: receiver.endpoint} if on else {}),
    )
    if not on:
        env.pop(tracing.ENDPOINT, None)
    (tmp_path / "metrics").mkdir()
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, APPS[service]], env=env, capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    status, loaded = json.loads(probe.stdout.strip().splitlines()[-1])
    assert status == 200
    if on:
        assert "opentelemetry.sdk.trace" in loaded
    else:
        assert loaded == []
    # The book's line, unchanged when off; on, with the trace id field (`-`: probes are not traced).
    request_lines = [line for line in probe.stderr.splitlines() if line.endswith("REQUEST GET /healthz")]
    trace_field = r"\[-\] " if on else ""
    assert request_lines, probe.stderr
    assert all(
        re.fullmatch(rf"\[[^]]+\] INFO \[[^]]+\] {trace_field}\w+: REQUEST GET /healthz", line)
        for line in request_lines
    ), request_lines
