"""Every Prometheus query of the Grafana dashboards, and a check that each one has data.

    python metrics/grafana/dashboard_queries.py                       # list the queries
    python metrics/grafana/dashboard_queries.py --prometheus http://127.0.0.1:9090

With ``--prometheus`` every query is run as an instant query; the exit status
is 1 when one is rejected (invalid PromQL) or has no data (the panel would
show "No data"). Tests import this file for the same purpose. Python's
standard library only.
"""

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parent / "dashboards"
DATASOURCE_UID = "prometheus"

# Grafana replaces these before a query reaches Prometheus.
GRAFANA_MACROS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # file name
    dashboard_uid: str
    panel: str  # panel title
    ref_id: str
    expr: str
    datasource: object  # the target's datasource as written (normally {"type": ..., "uid": ...})
    panel_datasource: object

    @property
    def where(self):
        return f"{self.dashboard} / {self.panel!r} / {self.ref_id}"

    def promql(self):
        """The expression as Grafana would send it (macros replaced)."""
        expr = self.expr
        for macro in sorted(GRAFANA_MACROS, key=len, reverse=True):
            expr = expr.replace(macro, GRAFANA_MACROS[macro])
        return expr


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAMES = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*+)(?!\s*\()")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
_KEYWORDS |= {"inf", "nan", "Inf", "NaN"}


def metric_names(expr):
    """The metric names an expression reads (not its functions, labels or keywords).

    A light lexer, not a PromQL parser: enough for the expressions of our rules
    and dashboards, so that a misspelt metric is caught before a panel shows
    "No data".
    """
    expr = _STRINGS.sub('""', expr)
    expr = _MATCHERS.sub(" ", expr)
    expr = _RANGES.sub(" ", expr)
    expr = _GROUPING.sub(" ", expr)
    return {name for name in _NAMES.findall(expr) if name not in _KEYWORDS}


def dashboard_files(folder=DASHBOARDS):
    return sorted(Path(folder).glob("*.json"))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def iter_panels(panels):
    """Every panel, including the ones inside (collapsed) rows."""
    for panel in panels or []:
        yield panel
        yield from iter_panels(panel.get("panels"))


def queries_of(path, dashboard=None):
    dashboard = load(path) if dashboard is None else dashboard
    found = []
    for panel in iter_panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            found.append(
                PanelQuery(
                    dashboard=Path(path).name,
                    dashboard_uid=dashboard.get("uid", ""),
                    panel=panel.get("title", ""),
                    ref_id=target.get("refId", ""),
                    expr=target.get("expr", ""),
                    datasource=target.get("datasource"),
                    panel_datasource=panel.get("datasource"),
                )
            )
    return found


def all_queries(folder=DASHBOARDS):
    """Every panel query of every dashboard JSON file in ``folder``."""
    return [query for path in dashboard_files(folder) for query in queries_of(path)]


def instant_query(prometheus_url, expr, timeout=10):
    """(HTTP status, decoded JSON body) of ``/api/v1/query``; a 400 means invalid PromQL."""
    url = prometheus_url.rstrip("/") + "/api/v1/query"
    body = urllib.parse.urlencode({"query": expr}).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - a URL we were given
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.load(error)
        except ValueError:
            return error.code, {"status": "error", "error": error.reason}


def samples(body):
    """The (labels, value) pairs of a query answer (vector, matrix or scalar)."""
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "vector":
        return [(item["metric"], float(item["value"][1])) for item in result]
    if kind == "matrix":
        return [(item["metric"], float(item["values"][-1][1])) for item in result if item["values"]]
    if kind in ("scalar", "string"):
        return [({}, result[1])]
    return []


def check(prometheus_url, queries):
    """One line per query; returns (the queries rejected or without data, those with only NaN values).

    NaN is an answer (a ratio over a window without requests, e.g. a service
    nobody called yet), but not a value to show: the summary counts it apart.
    """
    failed, nan_only = [], []
    for query in queries:
        status, body = instant_query(prometheus_url, query.promql())
        if status != 200 or body.get("status") != "success":
            failed.append(query)
            print(f"INVALID  {query.where}: {body.get('error')}\n         {query.expr}")
            continue
        found = samples(body)
        numbers = [value for _, value in found if isinstance(value, float)]
        if not found:
            failed.append(query)
            print(f"NO DATA  {query.where}\n         {query.expr}")
        elif numbers and all(math.isnan(value) for value in numbers):
            nan_only.append(query)
            print(f"NaN      {query.where} ({len(found)} series, all NaN)")
        else:
            shown = ", ".join(f"{value:g}" if isinstance(value, float) else str(value) for _, value in found[:3])
            print(f"ok       {query.where}: {len(found)} series ({shown}{', ...' if len(found) > 3 else ''})")
    return failed, nan_only


def main(argv=None):
    parser = argparse.ArgumentParser(description="List or check the Prometheus queries of the Grafana dashboards.")
    parser.add_argument("--dashboards", default=str(DASHBOARDS), help="folder of dashboard JSON files")
    parser.add_argument("--prometheus", help="run every query against this Prometheus, e.g. http://127.0.0.1:9090")
    args = parser.parse_args(argv)

    queries = all_queries(args.dashboards)
    if not args.prometheus:
        for query in queries:
            print(f"{query.where}\n    {query.expr}")
        return 0
    failed, nan_only = check(args.prometheus, queries)
    print(
        f"{len(queries) - len(failed) - len(nan_only)} of {len(queries)} queries have values; "
        f"{len(nan_only)} only NaN (no requests in their window yet); {len(failed)} rejected or without data"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
