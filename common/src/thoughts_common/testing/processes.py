"""Start a real server process for a test and stop it like a process runner would."""

import os
import signal
import subprocess
import tempfile
import time

import requests

from thoughts_common.testing.network import wait_until


class ServerProcess:
    def __init__(self, args, env=None, cwd=None, health_url=None, unset=()):
        """``env`` is added to the caller's environment, minus the names in ``unset``."""
        self.args = args
        self.health_url = health_url
        self.output = tempfile.TemporaryFile(mode="w+")
        self._final_output = None
        self.process = subprocess.Popen(
            args,
            env={**{k: v for k, v in os.environ.items() if k not in unset}, **(env or {})},
            cwd=cwd,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout=30):
        def answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited with {self.process.returncode}:\n{self.read_output()}")
            try:
                return requests.get(self.health_url, timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, timeout, message=f"{self.health_url} answering")
        return self

    def read_output(self):
        """What the process printed so far; once it has exited, all of it (and the file is closed)."""
        if self._final_output is not None:
            return self._final_output
        self.output.flush()
        self.output.seek(0)
        text = self.output.read()
        if self.process.poll() is not None:
            self._final_output = text
            self.output.close()
        return text

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Send ``sig`` and wait; returns (exit code, seconds it took)."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        seconds = time.monotonic() - started
        self.read_output()  # keeps what it printed and closes the file
        return self.process.returncode, seconds


def assert_stops_gracefully(process):
    """SIGTERM ends uWSGI gracefully and for good (it must not be read as "reload").

    uWSGI must log to the process output, i.e. run without ``SYSLOG_HOST``.
    """
    code, seconds = process.stop(signal.SIGTERM, timeout=20)
    output = process.read_output()
    assert code == 0, output
    assert seconds < 10
    assert "graceful shutdown triggered" in output
    assert "goodbye to uWSGI" in output
    assert "respawn" not in output.split("graceful shutdown triggered")[-1]
