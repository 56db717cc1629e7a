"""Proportional set size (PSS) of process trees, from /proc/<pid>/smaps_rollup.

PSS shares each page among the processes mapping it, so the PSS of a uWSGI
master and its forked workers adds up to what the service really costs. Used
by tests (memory after work) and by ``make bench`` / ``tools/stack-memory``.
"""

from pathlib import Path

PROC = Path("/proc")


def pss_kib(pid):
    """PSS of one process in KiB, or 0 when it is gone or unreadable."""
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def process_parents():
    """{pid: parent pid} of every process."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (2nd field) may hold spaces and parentheses: split after its last ")".
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def tree(pid):
    """``pid`` and all its descendants, parents before children."""
    parents = process_parents()
    children = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, pending = [], [pid]
    while pending:
        current = pending.pop(0)
        found.append(current)
        pending.extend(sorted(children.get(current, [])))
    return found


def tree_pss_kib(pid):
    """(total PSS in KiB, number of processes) of ``pid`` and its descendants (a uWSGI master and workers)."""
    pids = tree(pid)
    return sum(pss_kib(p) for p in pids), len(pids)
