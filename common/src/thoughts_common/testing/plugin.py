"""pytest plugin (registered through the ``pytest11`` entry point)."""

import pytest

from thoughts_common import tokens
from thoughts_common.testing.network import SyslogReceiver
from thoughts_common.testing.postgres import in_ci, server_for_tests


@pytest.fixture(scope="session")
def rsa_key_pair():
    """(private PEM, public PEM) made for this run."""
    return tokens.new_key_pair()


@pytest.fixture(scope="session")
def key_files(rsa_key_pair, tmp_path_factory):
    """The run's key pair as files: (private path, public path)."""
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "private.pem", folder / "public.pem"
    private.write_text(rsa_key_pair[0])
    public.write_text(rsa_key_pair[1])
    return private, public


@pytest.fixture(scope="session")
def postgres_server():
    with server_for_tests() as server:
        yield server


@pytest.fixture
def syslog_receiver():
    """A UDP syslog receiver of the test's own: every line it holds is of this test."""
    with SyslogReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def syslog():
    """One UDP syslog receiver for the servers of the whole run; tests tell their lines apart by request id."""
    with SyslogReceiver() as receiver:
        yield receiver


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if in_ci() and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line("CI=true: skipped tests count as failures", red=True)


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a test that did not run: the run must not pass.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if in_ci() and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
