"""``make bench`` runs once, tiny, so that it cannot rot: every row served, no error, the table's shape.

Figures are never asserted: this shared machine's timings are noise at this size.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from thoughts_common.testing import throwaway_postgres
from thoughts_common.testing.postgres import unavailable

ROOT = Path(__file__).resolve().parents[1]
TINY = {"BENCH_ROWS": "200", "BENCH_DURATION": "1", "BENCH_CONNECTIONS": "2", "BENCH_DB": "sqlite"}
ENDPOINTS = {
    "GET /api/thoughts/?search=platypus",
    "GET /api/me/thoughts/?limit=100",
    "GET /search?search=platypus (frontend)",
    "POST /api/login/",
    "POST /api/me/thoughts/",
}


def require_wrk():
    if shutil.which("wrk"):
        return
    unavailable("wrk is not installed (apt-get install -y wrk)")


def bench(tmp_path, environ=None, **settings):
    require_wrk()
    env = {**(os.environ if environ is None else environ), **TINY, "BENCH_OUTPUT": str(tmp_path), **settings}
    result = subprocess.run(
        [sys.executable, "-m", "bench.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_table_has_every_endpoint_served_without_errors(tmp_path):
    output = bench(tmp_path)
    document = json.loads((tmp_path / "bench.json").read_text())
    assert (tmp_path / "bench.txt").read_text().strip() in output

    assert document["ceiling"]["requests"] > 0 and document["ceiling"]["errors"] == 0
    rows = {row["endpoint"]: row for row in document["endpoints"]}
    one = [label for label in rows if label.startswith("GET /api/thoughts/") and "search" not in label]
    metrics = [label for label in rows if label.startswith("GET /metrics")]
    load = [label for label in rows if "the load" in label]
    assert ENDPOINTS <= set(rows) and len(one) == len(metrics) == len(load) == 1
    for label, row in rows.items():
        assert row["on"]["requests"] > 0, label
        assert row["on"]["errors"] == 0, (label, row["on"])
        assert row["on"]["p50_ms"] <= row["on"]["p99_ms"], label
    for label in [*ENDPOINTS, *one]:
        off = rows[label]["off"]
        assert off["requests"] > 0 and off["errors"] == 0, (label, off)
        assert rows[label]["overhead_percent"] is not None, label
    assert rows[metrics[0]]["off"] is None  # with metrics off /metrics is a 404 (checked by the bench)
    assert set(document["pss_kib"]) == {"users_backend", "thoughts_backend", "frontend"}
    for name, pss in document["pss_kib"].items():
        assert pss["processes"] == 3 and pss["pss_kib"] > 10_000, name  # master + 2 workers, each > 10 MiB in all
    assert document["log_lines"] > 0
    for label in ENDPOINTS:
        assert label in output
    leftovers = subprocess.run(["pgrep", "-f", "thoughts-bench-"], capture_output=True, text=True).stdout.split()
    assert not leftovers, "the bench left processes running"


def test_bench_db_postgresql_loads_into_a_throwaway_server_it_removes(tmp_path):
    """Without TEST_POSTGRES_URL, BENCH_DB=postgresql starts a server of its own (as the tests do) and deletes it."""
    before = set(Path(tempfile.gettempdir()).glob(f"{throwaway_postgres.FOLDER_PREFIX}*"))
    env = {key: value for key, value in os.environ.items() if key != "TEST_POSTGRES_URL"}
    output = bench(tmp_path, environ=env, BENCH_DB="postgresql")
    document = json.loads((tmp_path / "bench.json").read_text())
    assert "200 thoughts on postgresql" in output
    for label, row in {row["endpoint"]: row for row in document["endpoints"]}.items():
        assert row["on"]["requests"] > 0 and row["on"]["errors"] == 0, (label, row["on"])
    assert set(Path(tempfile.gettempdir()).glob(f"{throwaway_postgres.FOLDER_PREFIX}*")) <= before


def test_profile_mode_names_where_the_time_goes(tmp_path):
    output = bench(tmp_path, BENCH_PROFILE="1")
    document = json.loads((tmp_path / "profile.json").read_text())
    assert ENDPOINTS <= set(document["endpoints"])
    for label, entry in document["endpoints"].items():
        assert entry["wrk"]["requests"] > 0 and entry["wrk"]["errors"] == 0, label
        assert "ms of profiled time per request" in entry["summary"][0]
    # The search's own view is in its profile; the login's password hashing in the login's.
    assert "thoughts_backend/" in "\n".join(document["endpoints"]["GET /api/thoughts/?search=platypus"]["summary"])
    assert "by own time" in output


def test_stack_memory_prints_each_process_and_the_total():
    result = subprocess.run(
        [str(ROOT / "tools" / "stack-memory"), str(os.getpid())], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert str(os.getpid()) in lines[0]
    assert "total PSS of" in lines[-1]
    assert float(lines[-1].split()[0]) > 1  # this pytest process alone is more than 1 MiB


def test_stack_memory_counts_each_honcho_once(tmp_path):
    """honcho forks a copy of itself per process it runs: each process is counted once, under the top one."""
    (tmp_path / "Procfile").write_text("one: sleep 60\ntwo: sleep 60\n")
    honcho = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "start", "-f", str(tmp_path / "Procfile")],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["pgrep", "-c", "-P", str(honcho.pid)], capture_output=True).stdout.strip() != b"2":
            assert time.monotonic() < deadline, "honcho did not start its two processes"
            time.sleep(0.1)
        time.sleep(0.5)
        result = subprocess.run([str(ROOT / "tools" / "stack-memory")], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        pids = [line.split()[2] for line in result.stdout.strip().splitlines()[:-1]]
        assert str(honcho.pid) in pids
        assert len(pids) == len(set(pids)), result.stdout
        assert sum("sleep 60" in line for line in result.stdout.splitlines()) >= 2
    finally:
        honcho.terminate()
        honcho.wait(timeout=20)
