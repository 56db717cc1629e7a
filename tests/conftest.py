"""Real observability parts for the tests under tests/: rsyslogd, frontail, Prometheus, Alertmanager,
the alert receiver, and the dashboards' queries.

Each runs as its own process on free loopback ports, with its files under the
test's temporary folder, and is stopped at the end. A missing binary skips the
tests that need it locally and fails them with ``CI=true``.

Test modules cannot import a conftest, so the helpers reach them through the
``obs`` fixture; the binaries, ``dashboard_queries`` and ``start_rsyslog`` are
fixtures of their own. tests/observability checks each part on its own,
tests/system runs them all together with the three services.
"""

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from running_system import LOG_LINE

from thoughts_common import request_id
from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.postgres import unavailable
from thoughts_common.testing.processes import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "logs"
METRICS = ROOT / "metrics"
PROMETHEUS_DIR = METRICS / "prometheus"
ALERTMANAGER_DIR = METRICS / "alertmanager"
GRAFANA_DIR = METRICS / "grafana"
RECEIVER = METRICS / "alert_receiver" / "receiver.py"

# Jobs of prometheus.yml; the first three are the services.
SERVICE_JOBS = ("frontend", "thoughts_backend", "users_backend")
JOBS = (*SERVICE_JOBS, "prometheus", "alertmanager")

# The metrics the services expose (the contract of issue 5); histograms with their series.
HISTOGRAMS = {
    "flask_http_request_duration_seconds",
    "django_http_requests_latency_seconds_by_view_method",
    "req_time",
}
SERVICE_METRICS = {
    "up",
    "flask_http_request_total",
    "django_http_responses_total_by_status_view_method_total",
    "django_http_requests_total_by_view_transport_method_total",
    "requests_total",
    "thoughts_created_total",
    "logins_total",
    "uwsgi_workers",
    "uwsgi_workers_busy",
    "uwsgi_memory_rss_bytes",
} | {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")}


def require_binary(*names):
    """Path of the first of ``names`` found (also in /usr/sbin and /sbin), else skip (fail in CI)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    unavailable(f"{' or '.join(names)} is not installed")
    return None


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def rules():
    """Every rule of metrics/prometheus/rules/*.yml."""
    return [
        rule
        for path in sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
        for group in read_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def known_metrics():
    """What a rule or panel may read: the services' metrics and our recording rules."""
    return SERVICE_METRICS | {rule["record"] for rule in rules() if "record" in rule}


def write_yaml(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)


# --- binaries ------------------------------------------------------------------


@pytest.fixture(scope="session")
def promtool():
    return require_binary("promtool")


@pytest.fixture(scope="session")
def amtool():
    return require_binary("amtool")


@pytest.fixture(scope="session")
def rsyslogd():
    return require_binary("rsyslogd")


@pytest.fixture(scope="session")
def prometheus_binary():
    return require_binary("prometheus")


@pytest.fixture(scope="session")
def alertmanager_binary():
    return require_binary("prometheus-alertmanager", "alertmanager")


@pytest.fixture(scope="session")
def frontail():
    require_binary("node")
    path = LOGS / "node_modules" / ".bin" / "frontail"
    if not path.exists():
        unavailable("frontail is not installed (npm ci --prefix logs)")
    return path


@pytest.fixture(scope="session")
def dashboard_queries():
    """metrics/grafana/dashboard_queries.py: every panel query, and a data check against a Prometheus."""
    return load_module("dashboard_queries", GRAFANA_DIR / "dashboard_queries.py")


# --- rsyslog -------------------------------------------------------------------


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


@pytest.fixture
def start_rsyslog(rsyslogd, tmp_path):
    started = []

    def start(name="rsyslog", **settings):
        server = RsyslogServer(tmp_path / name, rsyslogd, **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@contextlib.contextmanager
def request_id_set(value):
    """Log as if inside a request with this id."""
    token = request_id.current.set(value)
    try:
        yield
    finally:
        request_id.current.reset(token)


# --- frontail --------------------------------------------------------------------


def start_frontail(binary, log_file):
    """frontail with the native run's command line, on a free port, showing ``log_file``."""
    port = free_port()
    server = ServerProcess(
        [
            str(binary),
            *("-h", "127.0.0.1", "-p", str(port), "-n", "1000", "--ui-highlight", "--disable-usage-stats"),
            str(log_file),
        ],
        health_url=f"http://127.0.0.1:{port}/",
    ).wait_healthy(timeout=20)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    return server


def frontail_lines(base_url, log_file, until, timeout=20):
    """The lines frontail pushes to a browser, read over socket.io's long-polling transport.

    Returns once a line contains ``until``. frontail names its socket.io
    namespace after the MD5 of the file names.
    """
    namespace = "/" + hashlib.md5(str(log_file).encode()).hexdigest()
    session = requests.Session()
    endpoint = f"{base_url}/socket.io/"
    handshake = session.get(endpoint, params={"EIO": "3", "transport": "polling"}, timeout=5)
    sid = re.search(r'"sid":"([^"]+)"', handshake.text).group(1)
    params = {"EIO": "3", "transport": "polling", "sid": sid}
    connect = f"40{namespace},"
    session.post(endpoint, params=params, data=f"{len(connect)}:{connect}", timeout=5).raise_for_status()

    received = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = session.get(endpoint, params=params, timeout=3)
        except requests.Timeout:
            continue
        received += re.findall(r'\["line","((?:[^"\\]|\\.)*)"\]', answer.text)
        if any(until in line for line in received):
            return received
    raise TimeoutError(f"frontail did not push {until!r} within {timeout} s; got {received[-5:]}")


# --- Prometheus, Alertmanager, alert receiver ---------------------------------------


def start_alert_receiver(folder):
    port = free_port()
    output = Path(folder) / "alerts.jsonl"
    server = ServerProcess(
        [sys.executable, str(RECEIVER), "--bind", "127.0.0.1", "--port", str(port), "--output", str(output)],
        health_url=f"http://127.0.0.1:{port}/healthz",
    ).wait_healthy()
    server.port, server.url, server.output = port, f"http://127.0.0.1:{port}", output
    return server


def read_alerts(path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def render_alertmanager_config(folder, webhook_url, group_wait=None):
    """metrics/alertmanager/render.sh with ALERT_WEBHOOK_URL; optionally a shorter group_wait."""
    output = Path(folder) / "alertmanager.yml"
    result = subprocess.run(
        ["sh", str(ALERTMANAGER_DIR / "render.sh"), str(output)],
        env={**os.environ, "ALERT_WEBHOOK_URL": webhook_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if group_wait:
        config = read_yaml(output)
        config["route"]["group_wait"] = group_wait
        write_yaml(output, config)
    return output


def start_alertmanager(binary, folder, config_file):
    port = free_port()
    server = ServerProcess(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={Path(folder) / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        health_url=f"http://127.0.0.1:{port}/-/ready",
    ).wait_healthy(timeout=30)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    return server


def prepare_prometheus_config(folder, targets, interval="1s", alert_for=None):
    """A copy of metrics/prometheus (config, rules) in ``folder`` with test targets and intervals.

    ``targets`` maps each job to a list of host:port; ``alert_for`` maps alert
    names to a shorter ``for`` (the expressions stay the real ones).
    """
    folder = Path(folder)
    config = read_yaml(PROMETHEUS_DIR / "prometheus.yml")
    config["global"].update(scrape_interval=interval, evaluation_interval=interval, scrape_timeout=interval)
    write_yaml(folder / "prometheus.yml", config)
    for rule_file in (PROMETHEUS_DIR / "rules").glob("*.yml"):
        rules = read_yaml(rule_file)
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "alert" in rule and rule["alert"] in (alert_for or {}):
                    rule["for"] = alert_for[rule["alert"]]
        write_yaml(folder / "rules" / rule_file.name, rules)
    for job, addresses in targets.items():
        write_yaml(folder / "targets" / f"{job}.yml", [{"targets": list(addresses)}])
    return folder / "prometheus.yml"


def start_prometheus(binary, folder, config_file, port=None):
    port = port or free_port()
    server = ServerProcess(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={Path(folder) / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        health_url=f"http://127.0.0.1:{port}/-/ready",
    ).wait_healthy(timeout=30)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    return server


@contextlib.contextmanager
def monitoring(prometheus_binary, alertmanager_binary, folder, service_targets, alert_for=None, group_wait="1s"):
    """Prometheus (1 s intervals, the real rules) -> Alertmanager (short group_wait) -> alert receiver.

    ``service_targets`` maps each service job to its host:port list; Prometheus
    and Alertmanager scrape themselves. Yields {"prometheus", "alertmanager",
    "receiver"} and stops all three at the end.
    """
    folder = Path(folder)
    started = []
    try:
        receiver = start_alert_receiver(folder / "receiver")
        started.append(receiver)
        am_config = render_alertmanager_config(folder / "alertmanager", f"{receiver.url}/alerts", group_wait)
        alertmanager = start_alertmanager(alertmanager_binary, folder / "alertmanager", am_config)
        started.append(alertmanager)

        prometheus_port = free_port()
        targets = {
            **service_targets,
            "prometheus": [f"127.0.0.1:{prometheus_port}"],
            "alertmanager": [f"127.0.0.1:{alertmanager.port}"],
        }
        config = prepare_prometheus_config(folder / "prometheus", targets, alert_for=alert_for)
        prometheus = start_prometheus(prometheus_binary, folder / "prometheus", config, port=prometheus_port)
        started.append(prometheus)
        yield {"prometheus": prometheus, "alertmanager": alertmanager, "receiver": receiver}
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="session")
def obs():
    """The helpers of this file for the test modules (which cannot import a conftest)."""
    return types.SimpleNamespace(
        ROOT=ROOT,
        LOGS=LOGS,
        METRICS=METRICS,
        PROMETHEUS_DIR=PROMETHEUS_DIR,
        ALERTMANAGER_DIR=ALERTMANAGER_DIR,
        GRAFANA_DIR=GRAFANA_DIR,
        RECEIVER=RECEIVER,
        SERVICE_JOBS=SERVICE_JOBS,
        JOBS=JOBS,
        SERVICE_METRICS=SERVICE_METRICS,
        LOG_LINE=LOG_LINE,
        RsyslogServer=RsyslogServer,
        load_module=load_module,
        rules=rules,
        known_metrics=known_metrics,
        read_yaml=read_yaml,
        write_yaml=write_yaml,
        read_alerts=read_alerts,
        request_id_set=request_id_set,
        start_frontail=start_frontail,
        frontail_lines=frontail_lines,
        render_alertmanager_config=render_alertmanager_config,
        prepare_prometheus_config=prepare_prometheus_config,
        start_alert_receiver=start_alert_receiver,
        start_alertmanager=start_alertmanager,
        start_prometheus=start_prometheus,
        monitoring=monitoring,
    )
