"""metrics/slo: the objectives, the rules and dashboards generated from them, and the histograms they need."""

import subprocess
import sys

import dashboard_queries
import flask
import pytest
import yaml
from metrics_contract import SERVICE_JOBS
from prometheus_client import CollectorRegistry
from repository_paths import PROMETHEUS_DIR, ROOT
from yaml_files import read_yaml

from thoughts_common import metrics, settings


@pytest.fixture(scope="module")
def generate():
    from slo import generate

    return generate


@pytest.fixture(scope="module")
def objectives(generate):
    return generate.load_objectives()


def test_the_generated_files_are_up_to_date(generate):
    stale = generate.stale(generate.outputs())
    assert stale == [], f"run `.venv/bin/python metrics/slo/generate.py` and commit: {stale}"


def test_a_changed_objective_makes_the_files_stale(generate, objectives):
    changed = yaml.safe_load(yaml.safe_dump(objectives))
    changed["services"]["users_backend"]["availability"] = 99.0
    stale = generate.stale(generate.outputs(changed))
    assert set(stale) == {generate.RULES_FILE, generate.dashboard_path("users_backend")}
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.update(window="7d"), "window must be 30d"),
        (lambda o: o["services"]["frontend"].update(availability=100), "availability objective 100.0"),
        (lambda o: o["services"]["frontend"]["latency"].update(objective=0), "latency objective 0.0"),
        (lambda o: o["services"]["frontend"]["latency"].pop("threshold_seconds"), "threshold_seconds"),
        (lambda o: o["services"]["frontend"].update(exporter="rails"), "exporter must be one of"),
        (lambda o: o.pop("min_bad_requests"), "min_bad_requests must be a whole number"),
        (lambda o: o.update(min_bad_requests=0), "min_bad_requests must be a whole number"),
        (lambda o: o.update(min_bad_requests=2.5), "min_bad_requests must be a whole number"),
    ],
)
def test_bad_objectives_are_refused_with_a_message(generate, objectives, tmp_path, change, message):
    bad = yaml.safe_load(yaml.safe_dump(objectives))
    change(bad)
    path = tmp_path / "objectives.yml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(generate.ObjectivesError, match=message):
        generate.load_objectives(path)


def test_every_service_has_both_slos_over_30_days(objectives):
    assert objectives["window"] == "30d"
    assert set(objectives["services"]) == set(SERVICE_JOBS)
    for job, service in objectives["services"].items():
        assert 99 <= service["availability"] < 100, job
        assert 95 <= service["latency"]["objective"] < 100, job
    assert objectives["services"]["frontend"]["latency"]["threshold_seconds"] == 1.0
    assert objectives["services"]["thoughts_backend"]["latency"]["threshold_seconds"] == 0.3


def slo_rules():
    return read_yaml(PROMETHEUS_DIR / "rules" / "slo.yml")["groups"]


def test_every_slo_has_its_objective_and_error_ratio_over_every_window(generate, objectives):
    records = {
        (rule["record"], rule["labels"]["job"], rule["labels"]["slo"]): rule["expr"]
        for group in slo_rules()
        for rule in group["rules"]
        if "record" in rule
    }
    for job, service in objectives["services"].items():
        for kind in ("availability", "latency"):
            assert (
                records[("job_slo:objective:ratio", job, kind)]
                == f"vector({generate.objective_of(service, kind) / 100:g})"
            )
            for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"):
                expr = records[(f"job_slo:sli_error:ratio_rate{window}", job, kind)]
                assert f'job="{job}"' in expr and f"[{window}]" in expr
            # the bad requests of the alerts' long windows, for min_bad_requests
            for window in ("1h", "6h", "1d", "3d"):
                expr = records[(f"job_slo:sli_error:increase{window}", job, kind)]
                assert f'job="{job}"' in expr and "increase(" in expr and f"[{window}]" in expr
    assert len(records) == 3 * 2 * (1 + 8 + 4)


def test_the_alerts_are_the_workbooks_page_and_ticket_per_slo(objectives):
    for group in slo_rules():
        alerts = [rule for rule in group["rules"] if "alert" in rule]
        # after the ratios they read, in the same group: one evaluation sees fresh ratios
        assert group["rules"][-len(alerts) :] == alerts
        [job] = {rule["labels"]["job"] for rule in alerts}
        assert group["name"] == f"slo-{job}"
        by_name = {rule["alert"]: rule for rule in alerts}
        assert {name: rule["labels"]["severity"] for name, rule in by_name.items()} == {
            "AvailabilityBudgetFastBurn": "critical",
            "AvailabilityBudgetSlowBurn": "warning",
            "LatencyBudgetFastBurn": "critical",
            "LatencyBudgetSlowBurn": "warning",
        }
        for kind in ("Availability", "Latency"):
            fast, slow = by_name[f"{kind}BudgetFastBurn"]["expr"], by_name[f"{kind}BudgetSlowBurn"]["expr"]
            for expr, conditions in (
                (fast, (("14.4", "1h", "5m"), ("6", "6h", "30m"))),
                (slow, (("3", "1d", "2h"), ("1", "3d", "6h"))),
            ):
                for factor, long, short in conditions:
                    selector = f'{{job="{job}", slo="{kind.lower()}"}}'
                    budget = f"({factor} * (1 - job_slo:objective:ratio{selector}))"
                    assert f"ratio_rate{long}{selector} > on (job, slo) {budget}" in expr
                    assert f"ratio_rate{short}{selector} > on (job, slo) {budget}" in expr
                    minimum = objectives["min_bad_requests"]
                    assert f"job_slo:sli_error:increase{long}{selector} >= {minimum}" in expr
    assert {group["name"] for group in slo_rules()} == {f"slo-{job}" for job in objectives["services"]}


def test_the_flask_services_have_a_histogram_bucket_at_their_latency_threshold(objectives, monkeypatch):
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    monkeypatch.delenv(metrics.ENABLED_ENV, raising=False)
    app = flask.Flask("slo_buckets")
    app.add_url_rule("/ping", "ping", lambda: "pong")
    metrics.init_app(app, registry=CollectorRegistry())
    client = app.test_client()
    client.get("/ping")
    exposed = client.get("/metrics").get_data(as_text=True)
    bounds = {
        line.split('le="')[1].split('"')[0]
        for line in exposed.splitlines()
        if line.startswith("flask_http_request_duration_seconds_bucket{")
    }
    # the default buckets are kept
    assert {"0.1", "0.25", "0.5", "1.0", "+Inf"} <= bounds
    for job, service in objectives["services"].items():
        if service["exporter"] == "flask":
            assert repr(float(service["latency"]["threshold_seconds"])) in bounds, job


def test_the_frontend_has_a_histogram_bucket_at_its_latency_threshold(objectives):
    # The frontend's real settings in a process of their own (django.setup() once per process).
    script = (
        "import django; django.setup(); from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS as b; print(*b)"
    )
    env = {
        **settings.without_settings(),
        "DJANGO_SETTINGS_MODULE": "mythoughts.settings",
        "DJANGO_SECRET_KEY": "slo-test",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT / "frontend", env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    buckets = [float(bound) for bound in result.stdout.split()]
    assert objectives["services"]["frontend"]["latency"]["threshold_seconds"] in buckets


def test_each_service_has_an_slo_dashboard_of_its_own(objectives):
    for job in objectives["services"]:
        path = dashboard_queries.DASHBOARDS / f"slo-{job}.json"
        queries = dashboard_queries.queries_of(path)
        for query in queries:
            assert f'job="{job}"' in query.expr, query.where
        titles = {query.panel for query in queries}
        for kind in ("Availability", "Latency"):
            assert {f"{kind} objective", f"{kind} error budget left", f"{kind} burn rate per window"} <= titles
        burn = [query for query in queries if query.panel == "Availability burn rate per window"]
        windows = {query.expr.split("ratio_rate")[1].split("{")[0] for query in burn}
        assert windows == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
        budget = [query.expr for query in queries if query.panel.endswith("error budget left")]
        assert all("ratio_rate30d" in expr and "job_slo:objective:ratio" in expr for expr in budget)
