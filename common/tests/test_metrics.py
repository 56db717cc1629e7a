"""thoughts_common.metrics: the switch, the multiprocess folder, and /metrics on a service of ``create_flask_app``."""

import os
import subprocess
import sys

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
    with pytest.raises(metrics.SettingError, match=f"METRICS_ENABLED='{raw}': Not a valid boolean"):
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


# prometheus-flask-exporter adds its request metrics to the first app of a process
# only, as under uWSGI where each worker loads one: the app runs in a fresh one.
SERVICE = """
import sys
from thoughts_common import service

app = service.create_flask_app("tiny", "tiny", sys.argv[1], {"JWT_PUBLIC_KEY": sys.stdin.read()})
app.get("/count")(lambda: {"count": 2})
client = app.test_client()
for _ in range(3):
    for path in ("/count", "/healthz", "/readyz"):
        assert client.get(path).status_code == 200
sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_metrics_count_requests_by_route_but_not_the_probes(rsa_key_pair, sqlite_url, tmp_path):
    unset = (metrics.MULTIPROC_ENV, metrics.ENABLED_ENV, "SYSLOG_HOST")
    scraped = subprocess.run(
        [sys.executable, "-c", SERVICE, sqlite_url],
        input=rsa_key_pair[1],
        env={name: value for name, value in os.environ.items() if name not in unset},
        cwd=tmp_path,  # not common/, whose uwsgi/ folder would pass for uWSGI's module
        capture_output=True,
        text=True,
        check=False,
    )
    assert scraped.returncode == 0, scraped.stderr
    counted = {
        sample.labels["url_rule"]: sample.value
        for family in text_string_to_metric_families(scraped.stdout)
        for sample in family.samples
        if sample.name == "flask_http_request_duration_seconds_count"
    }
    assert counted == {"/count": 3}


def test_switched_off_there_is_no_metrics_route(make_app, sqlite_url, monkeypatch):
    monkeypatch.setenv(metrics.ENABLED_ENV, "false")
    app = make_app(sqlite_url)
    assert app.extensions["metrics"] is None
    assert app.test_client().get("/metrics").status_code == 404
