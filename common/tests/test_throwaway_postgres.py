"""The throwaway PostgreSQL server the tests and the bench start: a real server, gone afterwards,
also when the run is interrupted or killed."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from thoughts_common.testing import throwaway_postgres
from thoughts_common.testing.postgres import server_for_tests

pytestmark = pytest.mark.usefixtures("server_programs")


@pytest.fixture
def server_programs():
    try:
        throwaway_postgres.binaries()
    except throwaway_postgres.Unavailable as exc:
        from thoughts_common.testing.postgres import unavailable

        unavailable(str(exc))


def refused(url):
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError:
        return True
    return False


def cli(*command, env=None, **kwargs):
    environ = {k: v for k, v in os.environ.items() if k != "TEST_POSTGRES_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "thoughts_common.testing.throwaway_postgres", "--", *command],
        env={**environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_a_server_answers_on_loopback_and_is_gone_afterwards():
    with throwaway_postgres.running() as url:
        assert url.startswith("postgresql://postgres@127.0.0.1:")
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW server_version_num").fetchone()[0] >= "150000"
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
            assert conn.execute("SHOW fsync").fetchone()[0] == "off"
            assert conn.execute("SELECT lower('ÉTÉ')").fetchone()[0] == "été"
        folders = list(Path(tempfile.gettempdir()).glob(f"{throwaway_postgres.FOLDER_PREFIX}{os.getpid()}-*"))
        assert folders
    assert refused(url)
    assert not any(folder.exists() for folder in folders)


def test_a_durable_server_keeps_fsync_on():
    with throwaway_postgres.running(durable=True) as url, psycopg.connect(url) as conn:
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"


def test_server_for_tests_uses_the_given_url_and_drops_its_databases(monkeypatch):
    with throwaway_postgres.running() as url:
        monkeypatch.setenv("TEST_POSTGRES_URL", url)
        with server_for_tests() as server:
            assert server.url == url
            database = server.create_database("drop_me")
            with psycopg.connect(database.replace("postgresql+psycopg", "postgresql")) as conn:
                conn.execute("SELECT 1")
        with psycopg.connect(url) as conn:
            names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        assert not [name for name in names if name.startswith("drop_me")]
        assert not refused(url), "a given server is not stopped"


def test_the_command_runs_with_the_url_and_its_exit_status_is_kept():
    script = (
        "import os, psycopg; psycopg.connect(os.environ['TEST_POSTGRES_URL']).close()\n"
        "print(os.environ['TEST_POSTGRES_URL']); raise SystemExit(3)"
    )
    child = cli(sys.executable, "-c", script)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 3, err
    url = out.strip().splitlines()[-1]
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    assert "PostgreSQL" in out.splitlines()[0]
    assert refused(url)


def test_a_given_url_starts_nothing():
    child = cli(
        sys.executable,
        "-c",
        "import os; print(os.environ['TEST_POSTGRES_URL'])",
        env={"TEST_POSTGRES_URL": "postgresql://elsewhere/x"},
    )
    out, _ = child.communicate(timeout=60)
    assert (child.returncode, out) == (0, "postgresql://elsewhere/x\n")


def wait_for_line(stream, prefix, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise AssertionError(f"no line starting {prefix!r}")


def test_sigterm_interrupts_the_command_first_then_stops_the_server():
    """The command gets SIGINT (pytest then drops its databases), and the server is stopped after it."""
    script = (
        "import os, signal, sys, time\n"
        "print('URL', os.environ['TEST_POSTGRES_URL'], flush=True)\n"
        "try:\n    time.sleep(120)\n"
        "except KeyboardInterrupt:\n"
        "    import psycopg; psycopg.connect(os.environ['TEST_POSTGRES_URL']).close()\n"
        "    print('INTERRUPTED, server still up', flush=True); sys.exit(1)\n"
    )
    child = cli(sys.executable, "-u", "-c", script)
    url = wait_for_line(child.stdout, "URL ")
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert "INTERRUPTED, server still up" in out, err
    assert child.returncode == 130
    assert refused(url)


def test_a_killed_run_leaves_a_server_that_the_next_run_removes():
    script = (
        "import os, time; print('PID', os.getpid(), flush=True)\n"
        "print('URL', os.environ['TEST_POSTGRES_URL'], flush=True); time.sleep(120)"
    )
    child = cli(sys.executable, "-u", "-c", script)
    command = int(wait_for_line(child.stdout, "PID "))
    url = wait_for_line(child.stdout, "URL ")
    os.kill(child.pid, signal.SIGKILL)  # the wrapper only: its command and the server live on
    child.wait(timeout=60)
    assert not refused(url)
    os.kill(command, signal.SIGKILL)
    child.communicate(timeout=60)
    throwaway_postgres.remove_abandoned()
    assert refused(url)
    assert not list(Path(tempfile.gettempdir()).glob(f"{throwaway_postgres.FOLDER_PREFIX}{child.pid}-*"))
