"""Files of dead processes are folded into the archives (thoughts_common.metrics_files).

Real processes write the files with prometheus_client and exit; the sums are
read back with prometheus_client's own collector, as /metrics does.
"""

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from thoughts_common import metrics_files
from thoughts_common.testing.network import free_port, wait_until
from thoughts_common.testing.processes import ServerProcess

WRITER = """
import sys
from prometheus_client import Counter, Gauge, Histogram

count, recent = int(sys.argv[1]), float(sys.argv[2])
hits = Counter("hits", "Hits", ["path"])
took = Histogram("took", "Time", buckets=(1, 10))
for i in range(count):
    hits.labels("/a").inc()
    took.observe(i % 20)
Gauge("g_sum", "", multiprocess_mode="sum").set(1)
Gauge("g_max", "", multiprocess_mode="max").set(count)
Gauge("g_recent", "", multiprocess_mode="mostrecent").set(recent)
Gauge("g_live", "", multiprocess_mode="livesum").set(1)
Gauge("g_all", "").set(1)
if len(sys.argv) > 3:
    sys.stdin.read()  # stays alive until told
"""

ARCHIVES = {f"{kind}_archive.db" for kind in ("counter", "histogram", "gauge_sum", "gauge_max", "gauge_mostrecent")}


def write(folder, count, recent=0.0):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run([sys.executable, "-c", WRITER, str(count), str(recent)], env=env, check=True)


def scrape(folder):
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in registry.collect()
        for sample in metric.samples
    }


def value(snapshot, name, **labels):
    return snapshot.get((name, tuple(sorted(labels.items()))))


def db_files(folder):
    return {path.name for path in folder.glob("*.db")}


def test_dead_processes_are_folded_and_the_totals_kept(tmp_path):
    for count, recent in [(1, 5.0), (2, 7.0), (3, 6.0), (4, 1.0), (5, 2.0)]:
        write(tmp_path, count, recent)
    before = scrape(tmp_path)
    assert len(db_files(tmp_path)) == 5 * 7

    assert metrics_files.fold_dead_processes(tmp_path) == 5 * 7
    after = scrape(tmp_path)
    assert db_files(tmp_path) == ARCHIVES
    assert value(after, "hits_total", path="/a") == 15
    assert value(after, "took_count") == 15
    assert value(after, "took_bucket", le="1.0") == value(before, "took_bucket", le="1.0") == 9  # the 0s and 1s
    assert value(after, "took_sum") == value(before, "took_sum")
    assert value(after, "g_sum") == 5
    assert value(after, "g_max") == 5
    assert value(after, "g_recent") == value(before, "g_recent")
    # Gauges of the dead: live* as mark_process_dead does, "all" since their series name a dead pid.
    assert not [key for key in after if key[0] in ("g_live", "g_all")]
    assert {k: v for k, v in after.items() if k[0] not in ("g_live", "g_all")} == {
        k: v for k, v in before.items() if k[0] not in ("g_live", "g_all")
    }

    # More deaths: the archives take them in, and nothing is counted twice.
    write(tmp_path, 10, 9.0)
    metrics_files.fold_dead_processes(tmp_path)
    again = scrape(tmp_path)
    assert db_files(tmp_path) == ARCHIVES
    assert value(again, "hits_total", path="/a") == 25
    assert value(again, "took_count") == 25
    assert value(again, "g_max") == 10
    assert value(again, "g_recent") == 9.0
    assert metrics_files.fold_dead_processes(tmp_path) == 0


def test_files_of_live_processes_are_left_alone(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    live = subprocess.Popen([sys.executable, "-c", WRITER, "3", "1", "stay"], env=env, stdin=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(db_files(tmp_path)) == 7, 20, message="the live writer's files")
        write(tmp_path, 2)
        assert metrics_files.fold_dead_processes(tmp_path) == 7
        mine = {name for name in db_files(tmp_path) if name.endswith(f"_{live.pid}.db")}
        assert len(mine) == 7
        assert value(scrape(tmp_path), "hits_total", path="/a") == 5
    finally:
        live.communicate("")


# A fold killed half-way, at each step where it can be: the next fold finishes it.
CRASHING_FOLD = """
import os, sys
from thoughts_common import metrics_files

real_replace = os.replace

def replace_then_die(source, target):
    real_replace(source, target)
    if str(target).endswith(sys.argv[2]):
        os._exit(3)

os.replace = replace_then_die
metrics_files.fold_dead_processes(sys.argv[1])
"""


@pytest.mark.parametrize("dies_after", [metrics_files.JOURNAL, "counter_archive.db", "gauge_sum_archive.db"])
def test_a_fold_killed_half_way_is_finished_by_the_next(tmp_path, dies_after):
    write(tmp_path, 4)
    metrics_files.fold_dead_processes(tmp_path)  # an archive is there already
    for count in (1, 2, 3):
        write(tmp_path, count)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_FOLD, str(tmp_path), dies_after])
    assert crashed.returncode == 3
    assert (tmp_path / metrics_files.JOURNAL).exists()

    with metrics_files.consistent_folder(tmp_path):
        after = scrape(tmp_path)
    assert value(after, "hits_total", path="/a") == 10
    assert value(after, "took_count") == 10
    assert value(after, "g_sum") == 4
    assert db_files(tmp_path) == ARCHIVES
    assert not (tmp_path / metrics_files.JOURNAL).exists()


# Folds racing each other and scrapes: a scrape never sees a total go down, or
# above what was written, and the end total is exact.
SCRAPER = """
import struct, sys, time
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from thoughts_common import metrics_files

folder, seconds = sys.argv[1], float(sys.argv[2])
seen, end = [], time.monotonic() + seconds
while time.monotonic() < end:
    with metrics_files.consistent_folder(folder):
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)
        try:
            hits = [s.value for m in registry.collect() for s in m.samples if s.name == "hits_total"]
        except struct.error:
            # prometheus_client's own race, not the folds': a writer's file read
            # the instant it is created, still empty.
            continue
    seen.append(sum(hits))
print(" ".join(str(int(v)) for v in seen))
"""


def test_concurrent_folds_and_scrapes_neither_lose_nor_double(tmp_path):
    writers, each = 30, 10
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    scrapers = [
        subprocess.Popen(
            [sys.executable, "-c", SCRAPER, str(tmp_path), "8"], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    threads = [threading.Thread(target=lambda: [write(tmp_path, each) for _ in range(writers // 3)]) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for scraper in scrapers:
        out, _ = scraper.communicate(timeout=60)
        seen = [int(v) for v in out.split()]
        assert len(seen) > 10
        assert seen == sorted(seen), "a total went down"
        assert max(seen) <= writers * each
    metrics_files.fold_dead_processes(tmp_path)
    assert value(scrape(tmp_path), "hits_total", path="/a") == writers * each
    assert db_files(tmp_path) == ARCHIVES


# The real thing: uWSGI under base.ini, workers killed and recycled while serving.
UWSGI_APP = """
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from thoughts_common import uwsgi_metrics
from thoughts_common.metrics import prepare_multiproc_dir

prepare_multiproc_dir()
HITS = Counter("hits", "Requests served")
TOOK = Histogram("took_seconds", "Time taken")


@uwsgi_metrics.refreshed
def metrics():
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/metrics":
        body = metrics()
    else:
        HITS.inc()
        TOOK.observe(0.01)
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
"""


def test_uwsgi_workers_killed_and_recycled_leave_a_bounded_folder_and_exact_totals(tmp_path):

    base_ini = Path(__file__).parents[1] / "uwsgi" / "base.ini"
    (tmp_path / "counting_app.py").write_text(UWSGI_APP)
    ini = tmp_path / "uwsgi.ini"
    # max-requests recycles workers gracefully; the SIGKILLs below stand for crashes and harakiri.
    ini.write_text(
        "[uwsgi]\nset-placeholder = service=counting\nset-placeholder = default_bind=127.0.0.1:0\n"
        f"chdir = {tmp_path}\nmodule = counting_app:app\nini = {base_ini}\nmax-requests = 15\n"
    )
    folder = tmp_path / "metrics"
    bind = f"127.0.0.1:{free_port()}"
    server = ServerProcess(
        [str(Path(sys.executable).parent / "uwsgi"), "--ini", str(ini)],
        env={"HTTP_BIND": bind, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        unset=("SYSLOG_HOST",),
        health_url=f"http://{bind}/metrics",
    ).wait_healthy()
    master = server.process.pid

    def workers():
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return sorted(int(pid) for pid in children)

    def scrape_totals():
        text = requests.get(f"http://{bind}/metrics", timeout=30).text
        samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}
        return samples.get("hits_total", 0), samples.get("took_seconds_count", 0)

    served, dead = 0, set()
    try:
        with ThreadPoolExecutor(4) as pool:
            for round_ in range(12):
                answers = list(pool.map(lambda _: requests.get(f"http://{bind}/", timeout=30), range(20)))
                assert [a.text for a in answers] == ["ok"] * 20
                served += 20
                assert scrape_totals() == (served, served)
                victim = workers()[round_ % 2]
                os.kill(victim, signal.SIGKILL)
                dead.add(victim)
                wait_until(lambda v=victim: v not in workers() and len(workers()) == 2, 30, message="respawn")
        assert scrape_totals() == (served, served)
        pids = {name.rsplit("_", 1)[1][: -len(".db")] for name in db_files(folder)}
        live = {str(pid) for pid in [master, *workers()]}
        assert pids <= live | {"archive"}, "files of dead workers remain"
        assert len(dead) == 12
        # counter, histogram and the pool gauge of each live process, plus their archives.
        assert len(db_files(folder)) <= 3 * len(live) + 3
    finally:
        server.stop()
