"""Prometheus rules and Grafana dashboards from the SLOs of objectives.yml.

    python metrics/slo/generate.py           # (re)write the generated files
    python metrics/slo/generate.py --check   # exit 1 when one is stale

Writes metrics/prometheus/rules/slo.yml (recording rules of the error ratios
over every window, and the multi-window, multi-burn-rate alerts of the SRE
workbook, chapter "Alerting on SLOs") and metrics/grafana/dashboards/slo-<job>.json.
Needs PyYAML only.
"""

import argparse
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
METRICS = HERE.parent
OBJECTIVES = HERE / "objectives.yml"
RULES_FILE = METRICS / "prometheus" / "rules" / "slo.yml"
DASHBOARDS = METRICS / "grafana" / "dashboards"

# The burn-rate factors below assume this period: 14.4x for one hour spends 2%
# of a 30-day budget, 6x for six hours 5%, 3x for a day 10%, 1x for three days 10%.
PERIOD = "30d"
ALERT_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
WINDOWS = (*ALERT_WINDOWS, PERIOD)

# Each alert: (burn rate, long window, short window) pairs, any of which fires it.
# The short window (1/12 of the long one) makes the alert stop soon after the burn does.
BURN_ALERTS = (
    {
        "name": "FastBurn",
        "severity": "critical",
        "for": "2m",
        "conditions": ((14.4, "1h", "5m"), (6, "6h", "30m")),
        "what": "page: at this rate the whole 30-day budget is gone in 2 to 5 days",
    },
    {
        "name": "SlowBurn",
        "severity": "warning",
        "for": "15m",
        "conditions": ((3, "1d", "2h"), (1, "3d", "6h")),
        "what": "ticket: at this rate the 30-day budget runs out before the 30 days are over",
    },
)
SLO_KINDS = ("availability", "latency")

# What each kind of service exposes (prometheus-flask-exporter, django-prometheus).
# Flask services do not count /healthz, /readyz and /metrics at all
# (thoughts_common.metrics.NOT_TRACKED); for Django the same is left out here.
EXPORTERS = {
    "flask": {
        "responses": "flask_http_request_total",
        "duration": "flask_http_request_duration_seconds",
        "matchers": "",
    },
    "django": {
        "responses": "django_http_responses_total_by_status_view_method_total",
        "duration": "django_http_requests_latency_seconds_by_view_method",
        "matchers": ', view!~"healthz|prometheus-django-metrics"',
    },
}

ERROR_RATIO = "job_slo:sli_error:ratio_rate{window}"
ERROR_COUNT = "job_slo:sli_error:increase{window}"
# The alerts' long windows: the bad requests in them are counted too (min_bad_requests).
COUNT_WINDOWS = tuple(dict.fromkeys(long for alert in BURN_ALERTS for _, long, _ in alert["conditions"]))
OBJECTIVE = "job_slo:objective:ratio"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


class ObjectivesError(ValueError):
    pass


def load_objectives(path=OBJECTIVES):
    with open(path, encoding="utf-8") as handle:
        objectives = yaml.safe_load(handle)
    if objectives.get("window") != PERIOD:
        raise ObjectivesError(f"{path}: window must be {PERIOD} (the burn-rate factors assume it)")
    for job, service in objectives["services"].items():
        if service.get("exporter") not in EXPORTERS:
            raise ObjectivesError(f"{path}: {job}: exporter must be one of {sorted(EXPORTERS)}")
        for kind in SLO_KINDS:
            target = objective_of(service, kind)
            if not 0 < target < 100:
                raise ObjectivesError(f"{path}: {job}: {kind} objective {target} is not a percentage below 100")
        if not service["latency"].get("threshold_seconds", 0) > 0:
            raise ObjectivesError(f"{path}: {job}: latency needs threshold_seconds > 0")
    minimum = objectives.get("min_bad_requests")
    if not (isinstance(minimum, int) and not isinstance(minimum, bool) and minimum >= 1):
        raise ObjectivesError(f"{path}: min_bad_requests must be a whole number of requests, at least 1")
    return objectives


def objective_of(service, kind):
    """The objective in percent."""
    value = service[kind]
    return float(value["objective"] if isinstance(value, dict) else value)


def bucket_label(seconds):
    """The ``le`` label prometheus_client writes for a bucket bound (0.3 -> "0.3", 1 -> "1.0")."""
    return repr(float(seconds))


def sli_terms(job, service, kind, window, function):
    """(bad, every): PromQL for the SLO's bad requests and for all requests over ``window``, summed by job.

    ``function`` is ``rate`` (for the ratios) or ``increase`` (for the counts).
    """
    exporter = EXPORTERS[service["exporter"]]
    selector = f'job="{job}"{exporter["matchers"]}'
    if kind == "availability":
        every = f"sum by (job) ({function}({exporter['responses']}{{{selector}}}[{window}]))"
        # No 5xx series at all is 0 errors, not "no data".
        failed = f'sum by (job) ({function}({exporter["responses"]}{{{selector}, status=~"5.."}}[{window}]))'
        return f"(\n  {failed}\n  or\n  {every} * 0\n)", every
    le = bucket_label(service["latency"]["threshold_seconds"])
    every = f"sum by (job) ({function}({exporter['duration']}_count{{{selector}}}[{window}]))"
    fast = f'sum by (job) ({function}({exporter["duration"]}_bucket{{{selector}, le="{le}"}}[{window}]))'
    return f"(\n  {every}\n  -\n  {fast}\n)", every


def error_ratio_expr(job, service, kind, window):
    bad, every = sli_terms(job, service, kind, window, "rate")
    return f"{bad}\n/\n{every}\n"


def error_count_expr(job, service, kind, window):
    """How many requests were bad over ``window`` (extrapolated to the window, as rate() is)."""
    bad, _ = sli_terms(job, service, kind, window, "increase")
    return f"{bad}\n"


def slo_groups(objectives):
    """One group per service: its recording rules, then its alerts.

    Rules of a group run in order, so the alerts read the ratios of the same
    evaluation (promtool orders separate groups at random).
    """
    groups = []
    for job, service in objectives["services"].items():
        rules = []
        for kind in SLO_KINDS:
            # job is in the expressions' results too; stated here for promtool's duplicate check.
            labels = {"job": job, "slo": kind}
            rules.append(
                {
                    "record": OBJECTIVE,
                    "expr": f"vector({objective_of(service, kind) / 100:g})",
                    "labels": labels,
                }
            )
            for window in WINDOWS:
                rules.append(
                    {
                        "record": ERROR_RATIO.format(window=window),
                        "expr": error_ratio_expr(job, service, kind, window),
                        "labels": labels,
                    }
                )
            for window in COUNT_WINDOWS:
                rules.append(
                    {
                        "record": ERROR_COUNT.format(window=window),
                        "expr": error_count_expr(job, service, kind, window),
                        "labels": labels,
                    }
                )
        rules += [alert_rule(job, kind, alert, objectives) for kind in SLO_KINDS for alert in BURN_ALERTS]
        groups.append({"name": f"slo-{job}", "rules": rules})
    return groups


def alert_name(kind, alert):
    return f"{kind.capitalize()}Budget{alert['name']}"


def alert_rule(job, kind, alert, objectives):
    selector = f'{{job="{job}", slo="{kind}"}}'
    minimum = objectives["min_bad_requests"]
    branches = []
    for factor, long, short in alert["conditions"]:
        budget = f"on (job, slo) ({factor:g} * (1 - {OBJECTIVE}{selector}))"
        long_ratio = ERROR_RATIO.format(window=long) + selector
        short_ratio = ERROR_RATIO.format(window=short) + selector
        # Last, so the alert's value stays the long window's ratio (``and`` keeps the left side's).
        enough = f"{ERROR_COUNT.format(window=long)}{selector} >= {minimum}"
        branches.append(
            f"  (\n    {long_ratio} > {budget}\n    and\n    {short_ratio} > {budget}\n    and\n    {enough}\n  )\n"
        )
    windows = " or ".join(f"{factor:g}x over {long} and {short}" for factor, long, short in alert["conditions"])
    name = alert_name(kind, alert)
    failing = "failed (5xx)" if kind == "availability" else "were slower than the latency threshold"
    return {
        "alert": name,
        # Both branches may hold at once: one alert per job and SLO.
        "expr": "max by (job, slo) (\n" + "  or\n".join(branches) + ")\n",
        "for": alert["for"],
        "labels": {"job": job, "slo": kind, "severity": alert["severity"]},
        "annotations": {
            "summary": f"{{{{ $labels.job }}}} burns its {kind} error budget ({alert['name'][:-4].lower()} burn)",
            "description": (
                f"{{{{ $value | humanizePercentage }}}} of the requests to {{{{ $labels.job }}}} {failing} "
                f"over the long window; burn rate {windows} of the 30-day budget ({alert['what']})."
            ),
            "runbook_url": f"{objectives['runbook_base_url']}/{name}.md",
        },
    }


def rules(objectives):
    return {"groups": slo_groups(objectives)}


RULES_HEADER = """\
# GENERATED by metrics/slo/generate.py from metrics/slo/objectives.yml: do not edit.
#
#   job_slo:objective:ratio{job, slo}              the objective, e.g. 0.999
#   job_slo:sli_error:ratio_rate<window>{job, slo}  share of bad requests over
#       5m, 30m, 1h, 2h, 6h, 1d, 3d (the alerts' windows) and 30d (the budget);
#       NaN without traffic, so that an idle service never alerts
#   job_slo:sli_error:increase<window>{job, slo}  how many requests were bad over
#       the alerts' long windows (1h, 6h, 1d, 3d)
#   <Kind>BudgetFastBurn (critical, page), <Kind>BudgetSlowBurn (warning, ticket)
#       multi-window, multi-burn-rate alerts per job and slo (availability, latency),
#       each branch also asking for min_bad_requests in its long window,
#       in the group of each job after its ratios
"""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def rules_text(objectives):
    return RULES_HEADER + "\n" + yaml.dump(rules(objectives), Dumper=_Dumper, sort_keys=False, width=1000)


# --- dashboards ---------------------------------------------------------------


def _target(expr, legend="", instant=False, ref="A"):
    return {
        "datasource": DATASOURCE,
        "refId": ref,
        "expr": expr,
        "legendFormat": legend,
        "instant": instant,
        "range": not instant,
    }


def _stat(title, description, expr, position, unit="percentunit", thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": position,
        "fieldConfig": {
            "defaults": {"unit": unit, "decimals": 3, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "auto",
            "justifyMode": "auto",
            "orientation": "auto",
        },
        "targets": [_target(expr, instant=True)],
    }


def burn_rate_expr(window, selector):
    """The error ratio over ``window`` in units of the error budget (1: the budget lasts exactly 30 days)."""
    return f"{ERROR_RATIO.format(window=window)}{selector} / on (job, slo) (1 - {OBJECTIVE}{selector})"


def _burn_rates(title, description, selector, position):
    refs = "ABCDEFGH"
    targets = [
        _target(
            burn_rate_expr(window, selector),
            legend=window,
            ref=refs[number],
        )
        for number, window in enumerate(ALERT_WINDOWS)
    ]
    # The alerts' burn-rate factors as dashed lines.
    steps = [{"color": "green", "value": None}]
    steps += [
        {"color": color, "value": factor}
        for factor, color in ((1, "yellow"), (3, "orange"), (6, "red"), (14.4, "dark-red"))
    ]
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": position,
        "fieldConfig": {
            "defaults": {
                "unit": "x",
                "min": 0,
                "custom": {"thresholdsStyle": {"mode": "dashed"}, "lineWidth": 1, "fillOpacity": 0},
                "thresholds": {"mode": "absolute", "steps": steps},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "right"}, "tooltip": {"mode": "multi"}},
        "targets": targets,
    }


def slo_panels(job, service, kind, top):
    selector = f'{{job="{job}", slo="{kind}"}}'
    objective = objective_of(service, kind)
    if kind == "availability":
        means = "share of requests not answered with a 5xx status"
    else:
        means = f"share of requests answered within {service['latency']['threshold_seconds']:g} s"
    ratio30d = ERROR_RATIO.format(window=PERIOD) + selector
    left = f"1 - ({burn_rate_expr(PERIOD, selector)})"
    red_below_zero = [
        {"color": "red", "value": None},
        {"color": "orange", "value": 0},
        {"color": "green", "value": 0.25},
    ]
    title = kind.capitalize()
    return [
        {"type": "row", "title": f"{title}: {means}", "collapsed": False, "gridPos": _pos(0, top, 24, 1), "panels": []},
        _stat(
            f"{title} objective",
            f"The objective over 30 days ({objective:g}%), from metrics/slo/objectives.yml.",
            f"{OBJECTIVE}{selector}",
            _pos(0, top + 1, 6, 4),
        ),
        _stat(
            f"{title} over 30 days",
            f"The SLI: {means}, over the last 30 days.",
            f"1 - {ratio30d}",
            _pos(6, top + 1, 6, 4),
        ),
        _stat(
            f"{title} error budget left",
            "Share of the 30-day error budget not spent yet; below 0 the objective is missed.",
            left,
            _pos(12, top + 1, 6, 4),
            thresholds=red_below_zero,
        ),
        _stat(
            f"{title} burn rate (1h)",
            "How fast the budget burns: 1 spends it in exactly 30 days; the page alert needs 14.4 (1h) or 6 (6h).",
            burn_rate_expr("1h", selector),
            _pos(18, top + 1, 6, 4),
            unit="x",
        ),
        _burn_rates(
            f"{title} burn rate per window",
            "Error ratio / error budget over each alert window. Page: 14.4 over 1h and 5m, or 6 over 6h and 30m; "
            "ticket: 3 over 1d and 2h, or 1 over 3d and 6h.",
            selector,
            _pos(0, top + 5, 24, 8),
        ),
    ]


def _pos(x, y, w, h):
    return {"h": h, "w": w, "x": x, "y": y}


def dashboard(job, service):
    panels = []
    for kind in SLO_KINDS:
        panels += slo_panels(job, service, kind, top=len(panels) and panels[-1]["gridPos"]["y"] + 8)
    for number, panel in enumerate(panels, start=1):
        panel["id"] = number
    return {
        "uid": f"thoughts-slo-{job.replace('_', '-')}",
        "title": f"Thoughts / SLO: {job}",
        "description": f"Objectives, error budget and burn rates of {job}. "
        "Generated by metrics/slo/generate.py from metrics/slo/objectives.yml: do not edit.",
        "tags": ["thoughts", "slo", job],
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "timezone": "browser",
        "annotations": {"list": []},
        "templating": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "title": "Thoughts",
                "tags": ["thoughts"],
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
                "targetBlank": False,
                "icon": "external link",
            }
        ],
        "panels": panels,
    }


def dashboard_path(job):
    return DASHBOARDS / f"slo-{job}.json"


def outputs(objectives=None):
    """{path: text} of every generated file."""
    objectives = objectives or load_objectives()
    files = {RULES_FILE: rules_text(objectives)}
    for job, service in objectives["services"].items():
        files[dashboard_path(job)] = json.dumps(dashboard(job, service), indent=2) + "\n"
    return files


def stale(files):
    return [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate the SLO rules and dashboards from objectives.yml.")
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 when one is)")
    args = parser.parse_args(argv)
    files = outputs()
    outdated = stale(files)
    if args.check:
        for path in outdated:
            print(f"stale: {path.relative_to(METRICS.parent)}")
        return 1 if outdated else 0
    for path in outdated:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(METRICS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
