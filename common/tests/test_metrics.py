"""thoughts_common.metrics: the switch, the multiprocess folder, and /metrics on a service of ``create_flask_app``."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from thoughts_common import metrics


@pytest.mark.parametrize(("raw", "expected"), [(None, True), ("", True), (" TRUE ", True), ("on", True), ("1", True)])
def test_metrics_are_on_unless_switched_off(raw, expected):
    assert metrics.enabled({} if raw is None else {metrics.ENABLED_ENV: raw}) is expected


@pytest.mark.parametrize("raw", ["false", "0", "No", "off"])
def test_metrics_switched_off(raw):
    assert metrics.enabled({metrics.ENABLED_ENV: raw}) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "disabled"])
def test_any_other_value_is_an_error_naming_the_variable(raw):
    with pytest.raises(metrics.SettingError, match=f"METRICS_ENABLED='{raw}': use true or false"):
        metrics.enabled({metrics.ENABLED_ENV: raw})


def test_the_folder_is_made_and_emptied_of_earlier_runs(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    assert metrics.prepare_multiproc_dir() is None
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(folder))
    assert metrics.prepare_multiproc_dir() == folder and folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"stale")
    (folder / "keep.txt").write_text("not a sample file")
    metrics.prepare_multiproc_dir()
    assert sorted(path.name for path in folder.iterdir()) == ["keep.txt"]


def requests_counted(client, path):
    """The requests to GET ``path`` answered 200, as /metrics shows them (0 when absent)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == "flask_http_request_duration_seconds_count" and sample.labels == {
                "method": "GET",
                "status": "200",
                "url_rule": path,
            }:
                return sample.value
    return 0


def test_metrics_count_requests_by_route_but_not_the_probes(make_app, tmp_path, monkeypatch):
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)  # one process: its own registry
    client = make_app(f"sqlite:///{tmp_path / 'metrics.sqlite3'}").test_client()
    before = requests_counted(client, "/count")
    for _ in range(3):
        assert client.get("/count").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert requests_counted(client, "/count") == before + 3
    assert requests_counted(client, "/healthz") == requests_counted(client, "/readyz") == 0


def test_switched_off_there_is_no_metrics_route(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv(metrics.ENABLED_ENV, "false")
    app = make_app(f"sqlite:///{tmp_path / 'metrics.sqlite3'}")
    assert app.extensions["metrics"] is None
    assert app.test_client().get("/metrics").status_code == 404
