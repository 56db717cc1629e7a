"""Proportional set size (PSS) of process trees, from /proc/<pid>/smaps_rollup.

PSS shares each page among the processes mapping it, so the PSS of a uWSGI
master and its forked workers adds up to what the service really costs.

``python -m bench.memory [PID ...]`` (tools/stack-memory) prints the PSS of
every process under the given ones, by default under each running honcho
(``make run``), and the total.
"""

import os
import sys
from pathlib import Path

from thoughts_common.testing.memory import PROC, process_parents, pss_kib, tree


def command_line(pid):
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or "?"


def honcho_pids():
    """The running honcho processes (``make run``): the top one of each, not the children it forks per process."""
    parents = process_parents()
    found = set()
    for pid in parents:
        words = command_line(pid).split()
        if any(Path(word).name == "honcho" for word in words[:2]) and "start" in words:
            found.add(pid)
    return sorted(pid for pid in found if parents.get(pid) not in found)


def mib(kib):
    return kib / 1024


def report(roots):
    """Lines naming every process under ``roots`` with its PSS, and the total."""
    lines, total = [], 0
    for root in roots:
        for pid in tree(root):
            kib = pss_kib(pid)
            total += kib
            lines.append(f"{mib(kib):9.1f} MiB  {pid:>7}  {command_line(pid)[:110]}")
    lines.append(f"{mib(total):9.1f} MiB  total PSS of {len(lines)} processes")
    return lines, total


def main(argv):
    roots = [int(arg) for arg in argv] or honcho_pids()
    if not roots:
        print("no running honcho (make run) found; give the process ids to measure", file=sys.stderr)
        return 1
    if os.geteuid() != 0 and any(pss_kib(pid) == 0 for pid in roots):
        print("some processes could not be read (another user's?): their PSS counts as 0", file=sys.stderr)
    lines, _ = report(roots)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
