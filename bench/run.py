"""``make bench``: throughput and latency of every endpoint under the services' real uWSGI settings.

Settings (environment): the BENCH_* rows of README.md's configuration table
(declared in thoughts_common.setting_declarations). See README.md, "make bench".

One run: a fresh dataset; the ceiling (a hello-world Flask app under the same
uWSGI settings); the three services with logging and metrics on, each
endpoint under wrk, then /metrics while another wrk loads the thoughts
backend, then the PSS of each service; the services again with LOG_LEVEL=WARNING
and METRICS_ENABLED=false, the same endpoints. Every process and database is
cleaned up at the end, also on Ctrl-C or SIGTERM.
"""

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

from thoughts_common import tokens
from thoughts_common.settings import get as read_setting
from thoughts_common.settings import refuse_to_start
from thoughts_common.testing.memory import tree_pss_kib

from . import dataset, profiling, services, table, wrk

REPO = services.REPO


class Settings:
    def __init__(self, environ=os.environ):
        self.rows = read_setting("BENCH_ROWS", environ)
        self.engine = read_setting("BENCH_DB", environ).lower()
        self.duration = read_setting("BENCH_DURATION", environ)
        self.connections = read_setting("BENCH_CONNECTIONS", environ)
        self.profile = read_setting("BENCH_PROFILE", environ)
        self.output = Path(read_setting("BENCH_OUTPUT", environ))
        if not self.output.is_absolute():
            self.output = REPO / self.output


def say(message):
    print(message, flush=True)


def endpoints(data, auth, password):
    """(label, service, wrk request pieces, compared with the ceiling) in the order they run.

    The POST runs last: what it adds is removed after each round (dataset.reset).
    """
    return [
        ("GET /api/thoughts/?search=platypus", "thoughts_backend", "/api/thoughts/?search=platypus", {}, True),
        (f"GET /api/thoughts/{data.thought_id}/", "thoughts_backend", f"/api/thoughts/{data.thought_id}/", {}, True),
        ("GET /api/me/thoughts/?limit=100", "thoughts_backend", "/api/me/thoughts/?limit=100", {"auth": auth}, True),
        ("GET /search?search=platypus (frontend)", "frontend", "/search?search=platypus", {}, True),
        (
            "POST /api/login/",
            "users_backend",
            "/api/login/",
            {"method": "POST", "body": urlencode({"username": dataset.BRUCE, "password": password})},
            False,
        ),
        (
            "POST /api/me/thoughts/",
            "thoughts_backend",
            "/api/me/thoughts/",
            {"method": "POST", "body": urlencode({"text": "a thought from the bench"}), "auth": auth},
            True,
        ),
    ]


def login(users, password):
    answer = requests.post(
        f"{users.base}/api/login/", data={"username": dataset.BRUCE, "password": password}, timeout=30
    )
    if answer.status_code != 200:
        raise RuntimeError(f"login of {dataset.BRUCE} failed: {answer.status_code} {answer.text}")
    return answer.json()["Authorized"]


def check_dataset(stack, auth):
    """The data is what the table says it is: the rare word's thoughts, and bruce's 100."""
    thoughts = stack["thoughts_backend"].base
    found = requests.get(f"{thoughts}/api/thoughts/", params={"search": "platypus", "limit": 100}, timeout=30)
    mine = requests.get(
        f"{thoughts}/api/me/thoughts/", params={"limit": 100}, headers={"Authorization": auth}, timeout=30
    )
    if found.status_code != 200 or len(found.json()) != dataset.RARE_COUNT:
        raise RuntimeError(f"search for the rare word: {found.status_code} {found.text[:300]}")
    if mine.status_code != 200 or len(mine.json()) != dataset.BRUCE_COUNT:
        raise RuntimeError(f"bruce's thoughts: {mine.status_code} {mine.text[:300]}")


def measure(label, request, settings, connections=None):
    result = wrk.run(request, settings.duration, connections or settings.connections)
    errors = f", {result.errors} ERRORS" if result.errors else ""
    p50, p99 = result.p50_us / 1000, result.p99_us / 1000
    say(f"  {label}: {result.rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms{errors}")
    return result


def run_round(stack, endpoint_list, settings, observability):
    results = {}
    for label, service, path, pieces, _ in endpoint_list:
        results[label] = measure(label, wrk.Request(stack[service].base + path, **pieces), settings)
    if observability:
        thoughts = stack["thoughts_backend"].base
        load_label, _, load_path, _, _ = endpoint_list[1]
        # The load runs a little longer than the scrapes, which start once it is on.
        load = wrk.start(wrk.Request(thoughts + load_path), settings.duration + 2, settings.connections)
        try:
            time.sleep(1)
            label = f"GET /metrics (c=1) while {load_label} is loaded"
            results[label] = measure(label, wrk.Request(thoughts + "/metrics"), settings, connections=1)
        finally:
            load_result = wrk.finish(load, timeout=settings.duration + 60)
        results[f"  the load: {load_label} (c={settings.connections})"] = load_result
    else:
        answer = requests.get(stack["thoughts_backend"].base + "/metrics", timeout=10)
        if answer.status_code != 404:
            raise RuntimeError(f"METRICS_ENABLED=false but /metrics answered {answer.status_code}")
    return results


def service_memory(stack):
    return {name: tree_pss_kib(service.pid) for name, service in stack.items()}


def run_table(exits, settings, folder, databases, data, keys, sink, password):
    # The ceiling runs first and last: this machine's speed drifts by a quarter within
    # minutes, and every share is taken against the mean of both runs.
    say("ceiling")
    ceiling_app = services.start_ceiling(exits, folder, sink)
    ceiling_runs = [measure("GET / (Flask 'ok')", wrk.Request(ceiling_app.base + "/"), settings)]

    rounds = {}
    pss = {}
    for name, observability in (("on", True), ("off", False)):
        say(f"logging and metrics {name}")
        with contextlib.ExitStack() as round_exits:
            stack = services.start_stack(round_exits, folder / name, databases, keys, sink, observability)
            auth = login(stack["users_backend"], password)
            if observability:
                check_dataset(stack, auth)
            rounds[name] = run_round(stack, endpoints(data, auth, password), settings, observability)
            if observability:
                pss = service_memory(stack)
        dataset.reset(databases, data)
    say("ceiling again")
    ceiling_runs.append(measure("GET / (Flask 'ok')", wrk.Request(ceiling_app.base + "/"), settings))
    ceiling_app.stop()
    ceiling = wrk.combined(*ceiling_runs)

    vs_ceiling = {label: flag for label, _, _, _, flag in endpoints(data, "", password)}
    results = {
        label: {"on": result, "off": rounds["off"].get(label), "vs_ceiling": vs_ceiling.get(label, False)}
        for label, result in rounds["on"].items()
    }
    rows = table.rows(results, ceiling)
    notes = [
        f"{settings.rows:,} thoughts on {databases.engine} (loaded in {data.load_seconds:.1f} s); "
        f"wrk -t1 -c{settings.connections} -d{settings.duration}s; {sink.messages:,} log lines reached syslog",
        "overhead % = req/s with logging and metrics off / req/s with them on - 1 "
        "(obs off: LOG_LEVEL=WARNING, METRICS_ENABLED=false)",
        "ceiling: the mean of a run before the endpoints and one after them: "
        + " and ".join(f"{run.rps:,.0f}" for run in ceiling_runs)
        + " req/s",
    ]
    text = table.render(rows, ceiling, pss, notes)
    document = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "rows": settings.rows,
            "db": databases.engine,
            "duration_s": settings.duration,
            "connections": settings.connections,
        },
        "load_seconds": round(data.load_seconds, 2),
        "ceiling": ceiling.as_dict(),
        "ceiling_runs": [run.as_dict() for run in ceiling_runs],
        "endpoints": rows,
        "pss_kib": {name: {"pss_kib": kib, "processes": n} for name, (kib, n) in pss.items()},
        "log_lines": sink.messages,
    }
    return text, document


def run_profile(exits, settings, folder, databases, data, keys, sink, password):
    """One worker with one thread per service, each request under cProfile; the top entries per endpoint."""
    stack = services.start_stack(exits, folder / "profile", databases, keys, sink, observability=True, profile=True)
    auth = login(stack["users_backend"], password)
    profiles = folder / "profile" / "profiles"
    lines, document = [], {"endpoints": {}}
    for index, (label, service, path, pieces, _) in enumerate(endpoints(data, auth, password)):
        base = stack[service].base
        requests.get(f"{base}/__bench_profile__", params={"name": "warm-up"}, timeout=30)
        result = measure(label, wrk.Request(base + path, **pieces), settings, connections=1)
        name = f"endpoint-{index}"
        requests.get(f"{base}/__bench_profile__", params={"name": name}, timeout=30).raise_for_status()
        summary = profiling.summary(profiles / f"{name}.prof", result.requests)
        lines += [f"{label} ({service}, 1 worker, 1 thread, cProfile on)", *summary, ""]
        document["endpoints"][label] = {"wrk": result.as_dict(), "summary": summary}
        settings.output.mkdir(parents=True, exist_ok=True)
        (settings.output / f"profile-{index}.prof").write_bytes((profiles / f"{name}.prof").read_bytes())
    dataset.reset(databases, data)
    return "\n".join(lines), document


def _stop_on_sigterm():
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    # Also when started in the background, where SIGINT comes ignored: Ctrl-C must clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main():
    with refuse_to_start():
        settings = Settings()
    _stop_on_sigterm()
    with dataset.temporary_folder() as tmp, contextlib.ExitStack() as exits:
        folder = Path(tmp)
        sink = services.SyslogSink()
        exits.callback(sink.close)
        private, public = tokens.generate_key_pair(folder / "keys")
        secret_file = folder / "keys" / "django-secret-key"
        secret_file.write_text(secrets.token_urlsafe(50))
        keys = (private, public, secret_file)
        password = secrets.token_urlsafe(18)

        say(f"dataset: {settings.rows:,} thoughts on {settings.engine}")
        databases = dataset.create_databases(exits, settings.engine, folder)
        dataset.migrate_and_create_bruce(databases, password)
        data = dataset.load(databases, settings.rows)
        say(f"  loaded in {data.load_seconds:.1f} s")

        run = run_profile if settings.profile else run_table
        text, document = run(exits, settings, folder, databases, data, keys, sink, password)
        print()
        print(text, flush=True)
        name = "profile" if settings.profile else "bench"
        settings.output.mkdir(parents=True, exist_ok=True)
        (settings.output / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        (settings.output / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        say(f"\nwritten to {settings.output}/{name}.txt and {name}.json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nbench interrupted: every process and database it started is stopped", file=sys.stderr)
        sys.exit(130)
