"""A backend under real uWSGI, its PostgreSQL behind a TcpProxy, refused or stalled under concurrent writes.

``run_fault`` drives the scenario and returns what a test asserts on (and
prints, so the figures can be quoted).
"""

import collections
import dataclasses
import threading
import time

import requests

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

    def statuses(self, answers):
        return collections.Counter(a.status for a in answers)

    def during(self, answers):
        return [a for a in answers if self.fault_started <= a.started < self.restored]

    def summary(self):
        healthz = self.during(self.healthz)
        readyz = self.during(self.readyz)
        return (
            f"{self.fault} for {self.seconds:g} s: writes {dict(self.statuses(self.writes))}, "
            f"during the fault {dict(self.statuses(self.during(self.writes)))}; "
            f"/healthz during the fault {dict(self.statuses(healthz))}, slowest "
            f"{max((a.seconds for a in healthz), default=0) * 1000:.0f} ms; "
            f"/readyz during the fault {dict(self.statuses(readyz))}, slowest "
            f"{max((a.seconds for a in readyz), default=0) * 1000:.0f} ms; "
            f"first acknowledged write {self.recovery_seconds:.2f} s after recovery; "
            f"rows added {self.rows_added} vs acknowledged {self.acknowledged}"
        )


def run_fault(base, proxy, fault, seconds, write, count_rows, writers=8):
    """``fault`` is "refuse" (``proxy.cut()``) or "stall"; ``write(i)`` makes one write request (an Answer)."""
    rows_before = count_rows()
    numbers = iter(range(10**9))
    lock = threading.Lock()

    def next_write():
        with lock:
            i = next(numbers)
        return write(i)

    loops = [_Loop(next_write, lambda a: 0.1 if a.status != 201 else 0) for _ in range(writers)]
    healthz = _Loop(lambda: _call("GET", f"{base}/healthz", 5), lambda _a: 0.05)
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
    """Every write 2xx or 503 + Retry-After, /healthz fast, /readyz 503 in time, recovery, no lost write, one line each."""
    print(report.summary())
    statuses = report.statuses(report.writes)
    assert set(statuses) <= {200, 201, 503}, statuses
    assert all(a.retry_after for a in report.writes if a.status == 503)
    assert report.statuses(report.during(report.writes))[503] > 0
    assert report.recovery_seconds < 15

    healthz = report.during(report.healthz)
    assert healthz and {a.status for a in healthz} == {200}
    assert max(a.seconds for a in healthz) < 0.1, sorted(a.seconds for a in healthz)[-5:]

    # A probe that started before the fault may still have seen a healthy database.
    readyz = [a for a in report.during(report.readyz) if a.started > report.fault_started + 0.1]
    assert readyz and {a.status for a in readyz} == {503}, report.statuses(readyz)
    assert max(a.seconds for a in readyz) < readiness_bound + 0.5
    assert report.readyz[-1].status == 200

    assert report.rows_added == report.acknowledged

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
