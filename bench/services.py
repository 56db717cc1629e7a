"""The three services under their own uwsgi.ini, the ceiling app, and a UDP sink for their logs.

Started as the tests start them (thoughts_common.testing.services: a clean
environment, uWSGI with the service's ini, healthy when ``/healthz`` answers).
"""

import collections
import contextlib
import socket
import sys
import threading
from pathlib import Path

from thoughts_common import settings, tracing
from thoughts_common.testing.network import free_port
from thoughts_common.testing.processes import ServerProcess
from thoughts_common.testing.services import clean_environ, uwsgi

REPO = Path(__file__).resolve().parents[1]

BIN = Path(sys.executable).parent
CEILING_INI = Path(__file__).with_name("ceiling.ini")
WSGI_APPS = {
    "users_backend": "users_backend.wsgi:app",
    "thoughts_backend": "thoughts_backend.wsgi:app",
    "frontend": "mythoughts.wsgi:application",
}


class SyslogSink:
    """A UDP syslog receiver that drains and counts what the services log (rsyslogd's part, minus the file)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.messages = 0
        # The last lines, to show why a service did not start (uWSGI logs there too).
        self.last = collections.deque(maxlen=60)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.last.append(self.sock.recv(65535))
                self.messages += 1

    def tail(self):
        return "\n".join(line.decode("utf-8", "replace").rstrip() for line in list(self.last))

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class Service:
    def __init__(self, name, process, env):
        self.name, self.process, self.env = name, process, env
        self.base = f"http://{env['HTTP_BIND']}"

    @property
    def pid(self):
        return self.process.process.pid

    def stop(self):
        self.process.stop()

    def wait_healthy(self, sink):
        try:
            self.process.wait_healthy(timeout=60)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{self.name} did not start: {exc}\nits last syslog lines:\n{sink.tail()}") from None


def profile_ini(folder, name):
    """An ini running the service's own uwsgi.ini with one worker, one thread, its app wrapped in cProfile."""
    path = Path(folder) / f"profile-{name}.ini"
    path.write_text(
        "[uwsgi]\n"
        f"ini = {REPO / name / 'uwsgi.ini'}\n"
        "processes = 1\n"
        "threads = 1\n"
        f"pythonpath = {REPO}\n"
        "module = bench.profiled:application\n"
    )
    return path


def _start(name, folder, env, profile):
    env = {
        **env,
        "HTTP_BIND": f"127.0.0.1:{free_port()}",
        "PROMETHEUS_MULTIPROC_DIR": str(Path(folder) / f"{name}-metrics"),
    }
    ini = REPO / name / "uwsgi.ini"
    if profile:
        ini = profile_ini(folder, name)
        env.update(BENCH_PROFILE_APP=WSGI_APPS[name], BENCH_PROFILE_DIR=str(Path(folder) / "profiles"))
        (Path(folder) / "profiles").mkdir(exist_ok=True)
    env = clean_environ(**env)
    process = uwsgi(ini, env, f"http://{env['HTTP_BIND']}/healthz")
    return Service(name, process, env)


def start_stack(stack, folder, databases, keys, sink, observability=True, profile=False):
    """The users backend, the thoughts backend and the frontend; each is stopped when ``stack`` closes.

    ``observability=False``: LOG_LEVEL=WARNING and METRICS_ENABLED=false.
    """
    Path(folder).mkdir(parents=True, exist_ok=True)
    common = {
        "SYSLOG_HOST": "127.0.0.1",
        "SYSLOG_PORT": sink.port,
        "LOG_LEVEL": "INFO" if observability else "WARNING",
        "METRICS_ENABLED": "true" if observability else "false",
        "JWT_PUBLIC_KEY_FILE": keys[1],
    }
    # `OTEL_EXPORTER_OTLP_ENDPOINT=... make bench`: the services trace too, with logs and metrics
    # (blank, for the pass without them, is unset).
    if tracing.enabled():
        common[tracing.ENDPOINT] = settings.get(tracing.ENDPOINT) if observability else ""
    services = {}
    # Both backends start at once, then the frontend that needs their addresses.
    for name, extra in (
        ("users_backend", {"DATABASE_URL": databases.users, "JWT_PRIVATE_KEY_FILE": keys[0]}),
        ("thoughts_backend", {"DATABASE_URL": databases.thoughts}),
    ):
        services[name] = _start(name, folder, {**common, **extra}, profile)
        stack.callback(services[name].stop)
    for service in services.values():
        service.wait_healthy(sink)
    frontend_env = {
        **common,
        "DJANGO_SECRET_KEY_FILE": keys[2],
        "USER_BACKEND_URL": services["users_backend"].base,
        "THOUGHTS_BACKEND_URL": services["thoughts_backend"].base,
    }
    services["frontend"] = _start("frontend", folder, frontend_env, profile)
    stack.callback(services["frontend"].stop)
    services["frontend"].wait_healthy(sink)
    return services


def start_ceiling(stack, folder, sink):
    env = clean_environ(
        HTTP_BIND=f"127.0.0.1:{free_port()}",
        SYSLOG_HOST="127.0.0.1",
        SYSLOG_PORT=sink.port,
        PROMETHEUS_MULTIPROC_DIR=Path(folder) / "ceiling-metrics",
    )
    process = ServerProcess(
        [str(BIN / "uwsgi"), "--ini", str(CEILING_INI)], env=env, health_url=f"http://{env['HTTP_BIND']}/"
    )
    service = Service("ceiling", process, env)
    stack.callback(service.stop)
    service.wait_healthy(sink)
    return service
