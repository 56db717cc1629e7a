"""Keep the multiprocess metrics folder as small as the live process pool.

prometheus_client's multiprocess mode gives every process its own files
(``counter_<pid>.db``, ``histogram_<pid>.db``, ``gauge_<mode>_<pid>.db``) and
``/metrics`` reads them all. A uWSGI worker that is replaced (crash, harakiri,
reload, max-requests) leaves its files behind, so without care every scrape
reads more of them, for as long as the service runs.

At each scrape, before reading, the files of processes that no longer exist
are folded into one archive per kind (``counter_archive.db``, ...):

- counters, histograms, summaries and ``sum`` gauges are added up, so totals
  stay exact and never go down (Prometheus would read a reset);
- ``max``/``min``/``mostrecent`` gauges keep the max, the min, the newest value;
- ``live*`` gauges are dropped, as ``prometheus_client.mark_process_dead`` does,
  and so are ``all`` gauges, whose series carry the pid of a process that is gone.

A process is dead when no process has its pid: that covers uWSGI workers
killed by SIGKILL or harakiri, which run no exit hook, and needs no uWSGI API.
A pid is only reused by a new process after the old one is reaped, and a new
worker that reuses a pid whose files are still there carries on from their
values, as prometheus_client always does.

Concurrency: folding holds an exclusive ``flock`` on the folder, scrapes a
shared one, so no scrape sees a file both in the archive and on its own. A fold
killed half-way is finished by the next one from its journal: the journal names
the archives it wrote (by inode) and the files they took in, so those files are
deleted only if their archive is in place, and counted again otherwise.
"""

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ARCHIVE = "archive"
LOCK_FILE = ".fold.lock"
JOURNAL = "fold-journal.json"
# Kind (the file name before the pid) and pid of a process's file.
_PROCESS_FILE = re.compile(r"^(counter|histogram|summary|gauge_[a-z]+)_(\d+)\.db$")


def _add(old, new):
    return old[0] + new[0], 0.0


def _max(old, new):
    return (new[0], 0.0) if new[0] > old[0] else old


def _min(old, new):
    return (new[0], 0.0) if new[0] < old[0] else old


def _newest(old, new):
    return new if new[1] > old[1] else old


# How two samples of one series combine; a kind missing here is dropped.
_COMBINE = {
    "counter": _add,
    "histogram": _add,
    "summary": _add,
    "gauge_sum": _add,
    "gauge_max": _max,
    "gauge_min": _min,
    "gauge_mostrecent": _newest,
}


def folder():
    """The multiprocess folder, or None when multiprocess mode is off."""
    path = os.environ.get(MULTIPROC_ENV)
    return Path(path) if path else None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def dead_process_files(path):
    """{kind: [file, ...]} of the processes that are gone."""
    found, alive = {}, {}
    for name in os.listdir(path):
        match = _PROCESS_FILE.match(name)
        if not match:
            continue
        kind, pid = match.group(1), int(match.group(2))
        if pid not in alive:
            alive[pid] = _alive(pid)
        if not alive[pid]:
            found.setdefault(kind, []).append(path / name)
    return found


@contextlib.contextmanager
def _locked(path, mode):
    with open(path / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(file):
    return [(key, value, timestamp) for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(file)]


def _write_archive(path, kind, sources):
    """Write the fold of the archive and ``sources`` next to the archive; returns the new file."""
    combine = _COMBINE[kind]
    archive = path / f"{kind}_{ARCHIVE}.db"
    series = {}
    for file in ([archive] if archive.exists() else []) + sources:
        for key, value, timestamp in _read(file):
            sample = (value, timestamp)
            series[key] = combine(series[key], sample) if key in series else sample
    new = archive.with_name(archive.name + ".new")
    new.unlink(missing_ok=True)
    values = MmapedDict(str(new))
    try:
        for key, (value, timestamp) in series.items():
            values.write_value(key, value, timestamp)
    finally:
        values.close()
    return new


def _finish_journal(path):
    """Complete (or undo) a fold that stopped half-way."""
    journal = path / JOURNAL
    try:
        steps = json.loads(journal.read_text())
    except FileNotFoundError:
        return
    except ValueError:  # written half: nothing was replaced yet
        steps = []
    for step in steps:
        archive, new = path / step["archive"], path / (step["archive"] + ".new")
        with contextlib.suppress(FileNotFoundError):
            if archive.stat().st_ino == step["inode"]:
                for source in step["sources"]:
                    (path / source).unlink(missing_ok=True)
                continue
        new.unlink(missing_ok=True)
    journal.unlink(missing_ok=True)


def fold_dead_processes(path=None):
    """Fold the files of dead processes into the archives; returns how many files went."""
    path = Path(path) if path else folder()
    if path is None or not path.is_dir() or (not dead_process_files(path) and not (path / JOURNAL).exists()):
        return 0
    with _locked(path, fcntl.LOCK_EX):
        _finish_journal(path)
        dead = dead_process_files(path)  # again: another worker may have folded them meanwhile
        steps, dropped = [], []
        for kind, sources in sorted(dead.items()):
            if kind not in _COMBINE:
                dropped += sources
                continue
            new = _write_archive(path, kind, sources)
            steps.append(
                {"archive": f"{kind}_{ARCHIVE}.db", "inode": new.stat().st_ino, "sources": [s.name for s in sources]}
            )
        journal = path / JOURNAL
        journal_new = path / (JOURNAL + ".new")
        journal_new.write_text(json.dumps(steps))
        os.replace(journal_new, journal)
        for step in steps:
            os.replace(path / (step["archive"] + ".new"), path / step["archive"])
        _finish_journal(path)
        for source in dropped:
            source.unlink(missing_ok=True)
        return sum(len(step["sources"]) for step in steps) + len(dropped)


@contextlib.contextmanager
def consistent_folder(path=None):
    """Fold what dead processes left, then keep folds out while the caller reads the folder."""
    path = Path(path) if path else folder()
    if path is None or not path.is_dir():
        yield
        return
    fold_dead_processes(path)
    with _locked(path, fcntl.LOCK_SH):
        yield
