"""Run Debian's wrk with bench/wrk.lua and read its one result line."""

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")
RESULT = re.compile(r"^BENCH_RESULT (?P<fields>.*)$", re.MULTILINE)
# A login waits for argon2 behind the other clients' logins: wrk's default 2 s would count it failed.
TIMEOUT = "10s"


class WrkError(RuntimeError):
    pass


@dataclasses.dataclass
class Request:
    url: str
    method: str = "GET"
    body: str = ""
    auth: str = ""


@dataclasses.dataclass
class Result:
    requests: int
    duration_us: int
    p50_us: int
    p99_us: int
    max_us: int
    non2xx: int
    connect: int
    read: int
    write: int
    timeout: int
    codes: str = ""  # the non-2xx statuses with their counts: "503x18,429x1"

    @property
    def rps(self):
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self):
        """Every request that did not end in a 2xx: statuses and socket errors alike."""
        return self.non2xx + self.connect + self.read + self.write + self.timeout

    def as_dict(self):
        return {
            **dataclasses.asdict(self),
            "rps": round(self.rps, 1),
            "p50_ms": self.p50_us / 1000,
            "p99_ms": self.p99_us / 1000,
            "errors": self.errors,
        }


def combined(*results):
    """One Result for several runs of the same request: req/s over their whole time, mean latencies."""
    count = len(results)
    return Result(
        requests=sum(r.requests for r in results),
        duration_us=sum(r.duration_us for r in results),
        p50_us=sum(r.p50_us for r in results) // count,
        p99_us=sum(r.p99_us for r in results) // count,
        max_us=max(r.max_us for r in results),
        non2xx=sum(r.non2xx for r in results),
        connect=sum(r.connect for r in results),
        read=sum(r.read for r in results),
        write=sum(r.write for r in results),
        timeout=sum(r.timeout for r in results),
    )


def binary():
    found = shutil.which("wrk")
    if not found:
        raise WrkError("wrk is not installed (Debian: apt-get install -y wrk; make bench installs it as root)")
    return found


def command(request, duration, connections):
    return [
        binary(),
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={TIMEOUT}",
        "-s",
        str(SCRIPT),
        request.url,
    ]


def environment(request):
    return {
        **os.environ,
        "BENCH_WRK_METHOD": request.method,
        "BENCH_WRK_BODY": request.body,
        "BENCH_WRK_AUTH": request.auth,
    }


def start(request, duration, connections):
    """wrk in the background (e.g. the load while /metrics is measured); ``finish`` reads it."""
    return subprocess.Popen(
        command(request, duration, connections),
        env=environment(request),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process, timeout=None):
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return parse(output, process.returncode)


def run(request, duration, connections):
    process = start(request, duration, connections)
    return finish(process, timeout=duration + 60)


def parse(output, returncode=0):
    match = RESULT.search(output or "")
    if returncode != 0 or not match:
        raise WrkError(f"wrk failed (exit {returncode}):\n{output}")
    fields = dict(pair.split("=", 1) for pair in match["fields"].split())
    codes = fields.pop("codes", "").rstrip(";")
    return Result(**{name: int(value) for name, value in fields.items()}, codes=codes)
