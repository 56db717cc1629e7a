"""The whole native stack for the system tests, started once per session on free ports.

rsyslogd (logs/run-rsyslog.sh) -> its file -> frontail; the users backend, the
thoughts backend and the frontend under uWSGI (2 workers each, fresh SQLite
databases with the book's demo data, the run's key pair) logging to that
rsyslogd; Prometheus with a copy of metrics/prometheus (the real rules, 1 s
intervals, TargetDown after 2 s) scraping them; Alertmanager rendered by
metrics/alertmanager/render.sh (1 s group_wait); the alert receiver.

The services are started as frontend/tests starts them (frontend_testing.py),
the observability parts as tests/observability does (the helper modules of tests/).
Nothing listens on the native run's ports (8000-8002, 5140, 9001, 9090, 9093,
9095), so a ``make run`` may go on at the same time.
"""

import secrets

import frontend_testing as ft
import pytest
from frontail_viewer import start_frontail
from monitoring_stack import monitoring, read_alerts
from repository_paths import ROOT
from rsyslog_server import RsyslogServer
from running_system import System, run_traffic

from thoughts_common.testing import services
from thoughts_common.testing.network import free_port

ARTIFACTS_FOLDER = ("test-artifacts", "system")


@pytest.fixture(scope="session")
def artifacts():
    """test-artifacts/system/: what the tests saw (query results, a log excerpt, the alert)."""
    folder = ROOT.joinpath(*ARTIFACTS_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def stack(
    key_files,
    rsyslogd,
    frontail,
    prometheus_binary,
    alertmanager_binary,
    tmp_path_factory,
):
    folder = tmp_path_factory.mktemp("system")
    started = []
    try:
        rsyslog = RsyslogServer(folder / "rsyslog", rsyslogd)
        started.append(rsyslog)
        viewer = start_frontail(frontail, rsyslog.file)
        started.append(viewer)

        # start_backend migrates, seeds the demo data and starts uWSGI; both start at once.
        backends = []
        for name in ("users_backend", "thoughts_backend"):
            (folder / name).mkdir()
            backends.append(ft.start_backend(name, folder / name, key_files, rsyslog))
            started.append(backends[-1].process)
        users, thoughts = backends
        for backend in (users, thoughts):
            backend.process.wait_healthy()
            backend.address = backend.env["HTTP_BIND"]

        frontend_env = services.clean_environ(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
            JWT_PUBLIC_KEY_FILE=key_files[1],
            USER_BACKEND_URL=users.base,
            THOUGHTS_BACKEND_URL=thoughts.base,
            PROMETHEUS_MULTIPROC_DIR=folder / "frontend" / "metrics",
            HTTP_BIND=f"127.0.0.1:{free_port()}",
            SYSLOG_HOST="127.0.0.1",
            SYSLOG_PORT=rsyslog.port,
        )
        frontend = ft.start_frontend(frontend_env)
        started.append(frontend)
        frontend.address = frontend_env["HTTP_BIND"]

        service_targets = {
            "frontend": [frontend.address],
            "thoughts_backend": [thoughts.address],
            "users_backend": [users.address],
        }
        with monitoring(
            prometheus_binary,
            alertmanager_binary,
            folder / "monitoring",
            service_targets,
            alert_for={"TargetDown": "2s"},
            group_wait="1s",
        ) as watchers:
            yield System(
                frontend_url=frontend.base,
                thoughts_url=thoughts.base,
                users_url=users.base,
                prometheus_url=watchers["prometheus"].url,
                log_text=rsyslog.text,
                alerts=lambda: read_alerts(watchers["receiver"].alerts_file),
                folder=folder,
                rsyslog=rsyslog,
                frontail=viewer,
                users=users,
                thoughts=thoughts,
                frontend=frontend,
                targets=service_targets,
                **watchers,
            )
    finally:
        for part in reversed(started):
            part.stop()


@pytest.fixture(scope="session")
def traffic(stack):
    """What a user does (running_system.run_traffic), once per session."""
    return run_traffic(stack)
