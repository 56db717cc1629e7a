"""Where a request's time goes: the per-endpoint cProfile dumps of bench/profiled.py, summarised."""

import pstats
from pathlib import Path

TOP = 12


def _where(key):
    filename, line, function = key
    if filename == "~":
        return function  # a built-in
    parts = Path(filename).parts
    # From the package folder on: site-packages/flask/app.py, thoughts_common/service.py.
    for marker in ("site-packages", "src", "lib"):
        if marker in parts:
            index = len(parts) - 1 - parts[::-1].index(marker)
            parts = parts[index + 1 :]
            break
    return f"{function} ({'/'.join(parts[-3:])}:{line})"


def summary(path, requests):
    """Lines: the profiled ms per request, then the top entries by own time and by cumulative time."""
    stats = pstats.Stats(str(path))
    requests = max(requests, 1)
    entries = [(key, calls, own, cumulative) for key, (_, calls, own, cumulative, _) in stats.stats.items()]
    lines = [f"  {stats.total_tt * 1000 / requests:.2f} ms of profiled time per request ({requests} requests)"]
    lines.append("  own ms/req   calls/req  by own time")
    for key, calls, own, _ in sorted(entries, key=lambda e: e[2], reverse=True)[:TOP]:
        lines.append(f"  {own * 1000 / requests:10.3f}  {calls / requests:10.1f}  {_where(key)}")
    lines.append("  cum ms/req   calls/req  by cumulative time")
    for key, calls, _, cumulative in sorted(entries, key=lambda e: e[3], reverse=True)[:TOP]:
        lines.append(f"  {cumulative * 1000 / requests:10.3f}  {calls / requests:10.1f}  {_where(key)}")
    return lines
