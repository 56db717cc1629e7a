"""A backend under real uWSGI, its PostgreSQL behind a TcpProxy, refused or stalled under concurrent writes.

``run_fault`` drives the scenario and returns what a test asserts on (and
prints, so the figures can be quoted).
"""

import collections
import dataclasses
import subprocess
import sys
import threading
import time

import psycopg
import requests
from sqlalchemy.engine import make_url

from thoughts_common.testing import services
from thoughts_common.testing.network import TcpProxy


def start_on_postgres(name, postgres_server, key_files, folder, syslog_port):
    """Backend ``name`` under uWSGI on a fresh migrated PostgreSQL database reached through a TcpProxy.

    It logs to the syslog receiver on ``syslog_port``. Returns (server, proxy, the database's direct URL).
    """
    url = postgres_server.create_database(f"{name}_faults")
    env = services.environment(name, folder, key_files, syslog_port, DATABASE_URL=url)
    services.cli(name, "migrate", env=env)
    target = make_url(url)
    proxy = TcpProxy(target.host, target.port)
    try:
        server = services.start(name, {**env, "DATABASE_URL": proxy.proxied_url(url)})
    except BaseException:
        proxy.close()
        raise
    return server, proxy, url


def row_counter(database_url, table):
    """Counts ``table``'s rows straight from PostgreSQL, around the proxy."""
    direct = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def count():
        with psycopg.connect(direct) as connection:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 (a table name of ours)

    return count


FAILED = "closed"  # no HTTP answer at all: connection closed, reset or timed out


@dataclasses.dataclass(frozen=True)
class Answer:
    started: float
    seconds: float
    status: object  # an HTTP status, or FAILED
    retry_after: str | None = None


def _call(method, url, timeout, **kwargs):
    started = time.monotonic()
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException:
        return Answer(started, time.monotonic() - started, FAILED)
    return Answer(started, time.monotonic() - started, response.status_code, response.headers.get("Retry-After"))


class _Loop:
    """A thread that calls ``call()`` until stopped, keeping every Answer."""

    def __init__(self, call, pause):
        self.answers = []
        self._call = call
        self._pause = pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            answer = self._call()
            self.answers.append(answer)
            # Writers back off a little after a refusal, as clients honouring Retry-After would (more briefly).
            self._stop.wait(self._pause(answer))

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)


# /healthz is timed from its own process: in the test's, the writers' and the
# proxy's threads would delay the probe (the GIL) and the figure would be ours.
_PROBE = """
import sys, time, urllib.request
url, pause = sys.argv[1], float(sys.argv[2])
while True:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status = response.status
    except Exception:
        status = 0
    print(started, time.monotonic() - started, status, flush=True)
    time.sleep(pause)
"""


class _ProbeProcess:
    def __init__(self, url, pause):
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PROBE, url, str(pause)], stdout=subprocess.PIPE, text=True
        )

    def stop(self):
        self._process.terminate()
        output, _ = self._process.communicate(timeout=10)
        self.answers = []
        for line in output.splitlines():
            fields = line.split()
            if len(fields) != 3:  # the line being written when the probe was stopped
                continue
            started, seconds, status = fields
            status = int(status)
            self.answers.append(Answer(float(started), float(seconds), status if status else FAILED))


@dataclasses.dataclass
class FaultReport:
    fault: str
    seconds: float
    writes: list
    healthz: list
    readyz: list
    fault_started: float
    restored: float
    recovery_seconds: float
    rows_added: int

    @property
    def acknowledged(self):
        return sum(1 for a in self.writes if a.status in (200, 201))

    @property
    def in_doubt(self):
        """Writes on the wire when the fault began that were answered 503.

        Their COMMIT may have reached the database while its answer was lost:
        committed, though the client saw an error. No server can know (only an
        idempotency key would tell); any other write must be counted exactly.
        """
        return sum(1 for a in self.writes if a.status == 503 and a.started < self.fault_started < a.started + a.seconds)

    @property
    def healthy(self):
        """Writes answered before the fault began."""
        return [a for a in self.writes if a.started + a.seconds < self.fault_started]

    def statuses(self, answers):
        return collections.Counter(a.status for a in answers)

    def before(self, answers):
        return [a for a in answers if a.started < self.fault_started]

    def during(self, answers):
        return [a for a in answers if self.fault_started <= a.started < self.restored]

    def summary(self):
        healthz = self.during(self.healthz)
        readyz = self.during(self.readyz)
        return (
            f"{self.fault} for {self.seconds:g} s: writes {dict(self.statuses(self.writes))}, "
            f"answered before the fault {dict(self.statuses(self.healthy))}, "
            f"during the fault {dict(self.statuses(self.during(self.writes)))}; "
            f"/healthz before the fault slowest {_ms(self.before(self.healthz), 1)}, "
            f"during it {dict(self.statuses(healthz))}, median {_ms(healthz, 0.5)}, "
            f"p99 {_ms(healthz, 0.99)}, slowest {_ms(healthz, 1)}; "
            f"/readyz during the fault {dict(self.statuses(readyz))}, median {_ms(readyz, 0.5)}, "
            f"slowest {_ms(readyz, 1)}; "
            f"first acknowledged write {self.recovery_seconds:.2f} s after recovery; "
            f"rows added {self.rows_added} vs acknowledged {self.acknowledged} "
            f"({self.in_doubt} writes in flight at the onset answered 503)"
        )


def _ms(answers, quantile):
    times = sorted(a.seconds for a in answers)
    return f"{times[min(len(times) - 1, int(quantile * len(times)))] * 1000:.0f} ms" if times else "-"


def run_fault(base, proxy, fault, seconds, write, count_rows, writers=8):
    """``fault`` is "refuse" (``proxy.cut()``) or "stall"; ``write(i)`` makes one write request (an Answer)."""
    rows_before = count_rows()
    numbers = iter(range(10**9))
    lock = threading.Lock()

    def next_write():
        with lock:
            i = next(numbers)
        return write(i)

    loops = [_Loop(next_write, lambda a: 0.2 if a.status != 201 else 0) for _ in range(writers)]
    healthz = _ProbeProcess(f"{base}/healthz", 0.02)
    readyz = _Loop(lambda: _call("GET", f"{base}/readyz", 10), lambda _a: 0.5)
    time.sleep(1.5)  # healthy traffic first

    fault_started = time.monotonic()
    if fault == "refuse":
        proxy.cut()
    else:
        proxy.stall()
    time.sleep(seconds)
    restored = time.monotonic()
    proxy.restore()

    def recovered():
        answers = [a for loop in loops for a in list(loop.answers)]
        done = [a.started + a.seconds for a in answers if a.started >= restored and a.status in (200, 201)]
        return min(done) if done else None

    deadline = restored + 30
    while recovered() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    first_ok = recovered()
    time.sleep(2)  # some healthy traffic after recovery, and /readyz answering again
    for loop in [*loops, healthz, readyz]:
        loop.stop()
    return FaultReport(
        fault=fault,
        seconds=seconds,
        writes=[a for loop in loops for a in loop.answers],
        healthz=healthz.answers,
        readyz=readyz.answers,
        fault_started=fault_started,
        restored=restored,
        recovery_seconds=(first_ok - restored) if first_ok is not None else float("inf"),
        rows_added=count_rows() - rows_before,
    )


def post(url, timeout=30, **kwargs):
    return _call("POST", url, timeout, **kwargs)


def assert_answered_as_an_sre_expects(report, syslog, readiness_bound):
    """Writes 2xx or 503 + Retry-After, /healthz fast, /readyz 503 in time, recovery, no lost write, one line each."""
    print(report.summary())
    statuses = report.statuses(report.writes)
    assert set(statuses) <= {200, 201, 503}, statuses
    assert all(a.retry_after for a in report.writes if a.status == 503)
    assert report.healthy and {a.status for a in report.healthy} == {201}, report.statuses(report.healthy)
    assert report.statuses(report.during(report.writes))[503] > 0
    assert report.recovery_seconds < 15

    healthz = report.during(report.healthz)
    assert healthz and {a.status for a in healthz} == {200}
    # 100 ms for 99 % of them; on a loaded test machine a single probe can lose
    # the CPU for longer, but none may wait anywhere near a database timeout.
    slow = [
        f"{a.seconds * 1000:.0f} ms at {a.started - report.fault_started:+.2f} s" for a in healthz if a.seconds >= 0.05
    ]
    assert sorted(a.seconds for a in healthz)[int(0.99 * len(healthz))] < 0.1, slow
    assert max(a.seconds for a in healthz) < 0.5, slow

    # A probe that started with the fault may still have seen a healthy database,
    # and one that was still waiting at the recovery may see the database back.
    readyz = [
        a
        for a in report.during(report.readyz)
        if a.started > report.fault_started + 0.1 and a.started + a.seconds < report.restored
    ]
    assert readyz and {a.status for a in readyz} == {503}, report.statuses(readyz)
    assert max(a.seconds for a in readyz) < readiness_bound + 0.5
    assert report.readyz[-1].status == 200

    assert report.acknowledged <= report.rows_added <= report.acknowledged + report.in_doubt

    refused = statuses[503]

    def warnings():
        return syslog.containing("WARNING", "Database unavailable on POST")

    deadline = time.monotonic() + 10
    while len(warnings()) < refused and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = syslog.snapshot()
    print(f"log: {len(warnings())} 'Database unavailable' WARNING lines for {refused} answers 503")
    assert len(warnings()) == refused
    assert not [line for line in lines if "Traceback" in line or "HARAKIRI" in line]
