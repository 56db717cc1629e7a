"""The uWSGI settings every service shares (common/uwsgi/base.ini), on a tiny app."""

import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.processes import ServerProcess

BASE_INI = Path(__file__).parents[1] / "uwsgi" / "base.ini"
UWSGI = Path(sys.executable).parent / "uwsgi"

# Loading takes a while, as a real app's imports do: uWSGI is still starting
# when the signal comes.
APP = """
import time
time.sleep(0.3)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.fixture
def tiny_service(tmp_path):
    (tmp_path / "tiny_app.py").write_text(APP)
    ini = tmp_path / "uwsgi.ini"
    ini.write_text(
        "[uwsgi]\n"
        "set-placeholder = service=tiny\n"
        "set-placeholder = default_bind=127.0.0.1:0\n"
        f"chdir = {tmp_path}\n"
        "module = tiny_app:app\n"
        f"ini = {BASE_INI}\n"
    )
    return ini


def blocks_sigterm(pid):
    """Whether the process has SIGTERM in its blocked mask (/proc's SigBlk)."""
    status = Path(f"/proc/{pid}/status").read_text()
    [mask] = [line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")]
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


# From the first milliseconds on (once uWSGI has read its settings: before
# that it ignores SIGTERM and nothing can change that), through Python's start,
# the app's loading, the workers' start and the master's.
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0])
def test_sigterm_while_starting_stops_gracefully(tiny_service, tmp_path, delay):
    env = {"HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    process = ServerProcess([str(UWSGI), "--ini", str(tiny_service)], env=env, unset=("SYSLOG_HOST",))
    wait_until(lambda: blocks_sigterm(process.process.pid), 10, interval=0.001, message="SIGTERM blocked")
    time.sleep(delay)
    code, seconds = process.stop(signal.SIGTERM, timeout=15)
    output = process.read_output()
    assert code == 0, f"uWSGI did not stop on SIGTERM sent {delay} s after its start:\n{output}"
    assert seconds < 10
    assert "goodbye to uWSGI" in output


def test_sigterm_lets_the_request_in_flight_finish(tiny_service, tmp_path):
    env = {"HTTP_BIND": f"127.0.0.1:{free_port()}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    process = ServerProcess(
        [str(UWSGI), "--ini", str(tiny_service)],
        env=env,
        unset=("SYSLOG_HOST",),
        health_url=f"http://{env['HTTP_BIND']}/",
    ).wait_healthy()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.get, f"http://{env['HTTP_BIND']}/slow", timeout=30)
        time.sleep(0.5)  # the request is in the worker now
        code, seconds = process.stop(signal.SIGTERM, timeout=15)
        answer = slow.result()
    assert (answer.status_code, answer.text) == (200, "ok")
    assert code == 0 and 1 < seconds < 10, process.read_output()
