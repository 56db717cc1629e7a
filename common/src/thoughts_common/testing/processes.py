"""Start a real server process for a test and stop it like a process runner would."""

import os
import signal
import subprocess
import tempfile
import time

import requests

from thoughts_common.testing.network import wait_until


class ServerProcess:
    def __init__(self, args, env=None, cwd=None, health_url=None):
        self.args = args
        self.health_url = health_url
        self.output = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            args,
            env={**os.environ, **(env or {})},
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
        self.output.flush()
        self.output.seek(0)
        return self.output.read()

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
        return self.process.returncode, time.monotonic() - started
