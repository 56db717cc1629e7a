"""Fixtures for the tests under tests/: the programs the observability tests run, and rsyslogd.

A missing program skips the tests that need it locally and fails them with
``CI=true``. The helpers live in modules beside this file (importable through
the root pyproject.toml's ``pythonpath``): repository_paths, required_binaries,
yaml_files, metrics_contract, rsyslog_server, frontail_viewer and
monitoring_stack. tests/observability checks each part on its own,
tests/system runs them all together with the three services.
"""

import pytest
from repository_paths import LOGS
from required_binaries import require_binary
from rsyslog_server import RsyslogServer

from thoughts_common.testing.postgres import unavailable


def binary_fixture(name, *candidates):
    """A session fixture ``name``: the path of the first of ``candidates`` installed (default: ``name``)."""

    @pytest.fixture(scope="session", name=name)
    def binary():
        return require_binary(*(candidates or (name,)))

    return binary


promtool = binary_fixture("promtool")
amtool = binary_fixture("amtool")
rsyslogd = binary_fixture("rsyslogd")
prometheus_binary = binary_fixture("prometheus_binary", "prometheus")
alertmanager_binary = binary_fixture("alertmanager_binary", "prometheus-alertmanager", "alertmanager")


@pytest.fixture(scope="session")
def frontail():
    require_binary("node")
    path = LOGS / "node_modules" / ".bin" / "frontail"
    if not path.exists():
        unavailable("frontail is not installed (npm ci --prefix logs)")
    return path


@pytest.fixture
def start_rsyslog(rsyslogd, tmp_path):
    """``start(name, **settings)``: an RsyslogServer under the test's folder, stopped at the end."""
    started = []

    def start(name="rsyslog", **settings):
        server = RsyslogServer(tmp_path / name, rsyslogd, **settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
