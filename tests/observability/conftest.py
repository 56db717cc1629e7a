"""Fixtures of the observability tests (each part on its own).

The real parts (rsyslogd, frontail, Prometheus, Alertmanager, the alert
receiver) come from the helper modules of tests/ and the fixtures of
tests/conftest.py, shared with the system tests in tests/system.
"""

import logging

import pytest
from metrics_contract import SERVICE_JOBS
from monitoring_stack import monitoring

from thoughts_common import logconfig
from thoughts_common.testing.network import free_port


@pytest.fixture
def service_logger(monkeypatch):
    """``make(tag, port)``: a logger configured by thoughts_common.logconfig to send syslog to that port."""
    root = logging.getLogger()
    level = root.level
    handlers = []

    def make(tag, port):
        monkeypatch.setenv("SYSLOG_HOST", "127.0.0.1")
        monkeypatch.setenv("SYSLOG_PORT", str(port))
        handlers.append(logconfig.configure(tag, level="INFO"))
        return logging.getLogger(f"observability.{tag}")

    yield make
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture(scope="session")
def alerting_stack(prometheus_binary, alertmanager_binary, tmp_path_factory):
    """Prometheus (1 s intervals, the real rules, TargetDown after 2 s) -> Alertmanager (1 s group_wait)
    -> alert receiver. The three services' targets are free ports where nothing listens: they are down.
    """
    folder = tmp_path_factory.mktemp("alerting")
    dead = {job: [f"127.0.0.1:{free_port()}"] for job in SERVICE_JOBS}
    with monitoring(
        prometheus_binary, alertmanager_binary, folder, dead, alert_for={"TargetDown": "2s"}, group_wait="1s"
    ) as stack:
        yield {**stack, "dead_targets": dead}
