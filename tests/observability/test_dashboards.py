"""metrics/grafana: provisioning files and dashboards; every panel query is valid PromQL on a real Prometheus."""

import json

import dashboard_queries
import pytest
from metrics_contract import known_metrics
from repository_paths import GRAFANA_DIR
from yaml_files import read_yaml

from thoughts_common.testing.network import wait_until

DASHBOARD_NAMES = ("overview", "frontend", "thoughts_backend", "users_backend")


def datasource():
    provisioned = read_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
    [source] = provisioned["datasources"]
    return source


def dashboards():
    return {path.stem: dashboard_queries.load(path) for path in dashboard_queries.dashboard_files()}


def test_the_provisioned_datasource_is_prometheus_with_a_fixed_uid():
    source = datasource()
    assert source["type"] == "prometheus"
    assert source["uid"] == dashboard_queries.DATASOURCE_UID
    assert source["url"].startswith("http://")
    assert source.get("isDefault") is True


def test_the_dashboard_provider_loads_the_dashboard_folder():
    provider = read_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "thoughts.yml")
    [entry] = provider["providers"]
    assert entry["type"] == "file"
    assert entry["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dashboards_parse_and_have_unique_uids_and_titles():
    loaded = dashboards()
    assert set(DASHBOARD_NAMES) <= set(loaded)
    uids = [dashboard["uid"] for dashboard in loaded.values()]
    titles = [dashboard["title"] for dashboard in loaded.values()]
    assert len(set(uids)) == len(uids)
    assert len(set(titles)) == len(titles)
    for name, dashboard in loaded.items():
        assert "__inputs" not in dashboard, f"{name}: an export with inputs, not a provisioned dashboard"
        assert dashboard.get("id") is None, f"{name}: a fixed id clashes with Grafana's own"
        panels = list(dashboard_queries.iter_panels(dashboard["panels"]))
        ids = [panel["id"] for panel in panels]
        assert len(set(ids)) == len(ids), name
        for panel in panels:
            position = panel["gridPos"]
            assert 0 <= position["x"] and position["x"] + position["w"] <= 24, (name, panel["title"])


def test_every_panel_queries_the_provisioned_datasource():
    expected = {"type": "prometheus", "uid": datasource()["uid"]}
    for name, dashboard in dashboards().items():
        assert "${DS_" not in json.dumps(dashboard), name
        for panel in dashboard_queries.iter_panels(dashboard["panels"]):
            if panel["type"] == "row":
                continue
            assert panel.get("targets"), f"{name}: panel {panel['title']!r} has no query"
            assert panel["datasource"] == expected, (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == expected, (name, panel["title"], target["refId"])
                assert target["expr"].strip(), (name, panel["title"], target["refId"])
        for variable in dashboard.get("templating", {}).get("list", []):
            assert variable.get("datasource") in (None, expected), (name, variable.get("name"))


def test_the_overview_shows_the_golden_signals_of_every_service():
    queries = dashboard_queries.queries_of(dashboard_queries.DASHBOARDS / "overview.json")
    exprs = " ".join(query.expr for query in queries)
    names = set().union(*(dashboard_queries.metric_names(query.expr) for query in queries))
    # traffic by service and by path (Flask URL rule, Django view)
    assert "job:http_requests:rate5m" in names
    assert "url_rule" in exprs and "view" in exprs
    # errors, latency quantiles, saturation
    assert {
        "job:http_requests_5xx:ratio_rate5m",
        "job:http_request_duration_seconds:p50_5m",
        "job:http_request_duration_seconds:p95_5m",
        "job:http_request_duration_seconds:p99_5m",
        "uwsgi_memory_rss_bytes",
    } <= names
    assert {"uwsgi_workers_busy", "job_instance:uwsgi_workers_busy:ratio"} & names


@pytest.mark.parametrize(
    ("name", "job", "own_metrics"),
    [
        ("thoughts_backend", "thoughts_backend", {"thoughts_created_total", "req_time_bucket", "requests_total"}),
        ("users_backend", "users_backend", {"logins_total"}),
        ("frontend", "frontend", {"django_http_requests_total_by_view_transport_method_total"}),
    ],
)
def test_each_service_dashboard_has_its_own_panels(name, job, own_metrics):
    queries = dashboard_queries.queries_of(dashboard_queries.DASHBOARDS / f"{name}.json")
    names = set().union(*(dashboard_queries.metric_names(query.expr) for query in queries))
    assert own_metrics <= names
    for query in queries:
        if query.expr != "uwsgi:memory_limit_bytes":
            assert f'job="{job}"' in query.expr, f"{query.where} does not select job {job}"


def test_search_latency_is_req_time_of_the_search_endpoint():
    queries = dashboard_queries.queries_of(dashboard_queries.DASHBOARDS / "thoughts_backend.json")
    search = [query for query in queries if query.panel.startswith("Search latency")]
    assert len(search) == 3  # p50, p95, p99
    for query in search:
        assert 'req_time_bucket{job="thoughts_backend", endpoint="api_thoughts", method="get"}' in query.expr


def test_dashboards_read_only_known_metrics():
    known = known_metrics()
    for query in dashboard_queries.all_queries():
        unknown = dashboard_queries.metric_names(query.expr) - known
        assert not unknown, f"{query.where} reads unknown metrics {unknown}"


def test_every_panel_query_is_valid_promql(alerting_stack):
    url = alerting_stack["prometheus"].url
    # The check itself: Prometheus rejects invalid PromQL with 400.
    status, body = dashboard_queries.instant_query(url, "sum by (job (up)")
    assert status == 400 and body["errorType"] == "bad_data"

    queries = dashboard_queries.all_queries()
    assert len(queries) >= 30
    rejected = {}
    for query in queries:
        status, body = dashboard_queries.instant_query(url, query.promql())
        if status != 200 or body.get("status") != "success":
            rejected[query.where] = body.get("error")
    assert rejected == {}


def test_the_data_check_reports_queries_without_data(alerting_stack, capsys):
    url = alerting_stack["prometheus"].url
    wait_until(lambda: dashboard_queries.instant_query(url, "up")[1]["data"]["result"], 30, message="a first scrape")
    good = dashboard_queries.PanelQuery("x.json", "x", "up", "A", "up", None, None)
    empty = dashboard_queries.PanelQuery("x.json", "x", "nothing", "B", "no_such_metric_anywhere", None, None)
    idle = dashboard_queries.PanelQuery("x.json", "x", "idle ratio", "C", "vector(0) / 0", None, None)

    assert dashboard_queries.check(url, [good, empty, idle]) == ([empty], [idle])
    output = capsys.readouterr().out
    assert "ok       x.json / 'up' / A" in output
    assert "NO DATA  x.json / 'nothing' / B" in output
    assert "NaN      x.json / 'idle ratio' / C (1 series, all NaN)" in output
