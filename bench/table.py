"""The bench's one table, as text and as JSON."""

import json

NONE = "-"
HEADERS = ("endpoint", "req/s", "p50 ms", "p99 ms", "errors", "% ceiling", "req/s obs off", "errors off", "overhead %")


def _number(value, digits=0):
    return NONE if value is None else f"{value:,.{digits}f}"


def overhead_percent(on, off):
    """Extra time a request takes with logging and metrics on: (req/s off / req/s on - 1) x 100."""
    if on is None or off is None or not on.rps:
        return None
    return (off.rps / on.rps - 1) * 100


def rows(results, ceiling):
    """One dict per endpoint from {label: {"on": Result, "off": Result|None, "vs_ceiling": bool}}."""
    table = []
    for label, entry in results.items():
        on, off = entry["on"], entry.get("off")
        share = on.rps / ceiling.rps * 100 if entry.get("vs_ceiling", True) and ceiling.rps else None
        table.append(
            {
                "endpoint": label,
                "on": on.as_dict(),
                "off": off.as_dict() if off else None,
                "percent_of_ceiling": None if share is None else round(share, 1),
                "overhead_percent": None if off is None else round(overhead_percent(on, off), 1),
            }
        )
    return table


def render(table, ceiling, memory, notes):
    cells = [
        (
            row["endpoint"],
            _number(row["on"]["rps"]),
            _latency(row["on"], "p50_ms"),
            _latency(row["on"], "p99_ms"),
            _errors(row["on"]),
            _number(row["percent_of_ceiling"], 1),
            _number(row["off"]["rps"]) if row["off"] else NONE,
            _errors(row["off"]) if row["off"] else NONE,
            _number(row["overhead_percent"], 1),
        )
        for row in table
    ]
    cells.insert(
        0,
        (
            "ceiling: Flask 'ok', same uWSGI",
            _number(ceiling.rps),
            _number(ceiling.p50_us / 1000, 1),
            _number(ceiling.p99_us / 1000, 1),
            _errors(ceiling.as_dict()),
            "100.0",
            NONE,
            NONE,
            NONE,
        ),
    )
    widths = [max(len(str(line[i])) for line in [HEADERS, *cells]) for i in range(len(HEADERS))]

    def line(values):
        return "  ".join(
            str(value).ljust(width) if i == 0 else str(value).rjust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    lines = [line(HEADERS), "  ".join("-" * width for width in widths)]
    lines += [line(values) for values in cells]
    lines.append("")
    for name, (kib, processes) in memory.items():
        lines.append(f"PSS {name}: {kib / 1024:.1f} MiB ({processes} processes: uWSGI master and workers)")
    if memory:
        total = sum(kib for kib, _ in memory.values())
        lines.append(f"PSS of the three services: {total / 1024:.1f} MiB")
    lines += notes
    return "\n".join(lines)


def _latency(result, key):
    """No request completed, no latency: wrk's 0 would read as instant."""
    return _number(result[key], 1) if result["requests"] else NONE


def _errors(result):
    """The error count, with its kinds when there are any: nothing is folded away."""
    if not result["errors"]:
        return "0"
    kinds = ("non2xx", "connect", "read", "write", "timeout")
    detail = " ".join(
        f"{kind}={result[kind]}" + (f" [{result['codes']}]" if kind == "non2xx" and result["codes"] else "")
        for kind in kinds
        if result[kind]
    )
    return f"{result['errors']} ({detail})"


def write(folder, text, document):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.txt").write_text(text + "\n", encoding="utf-8")
    (folder / "bench.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
