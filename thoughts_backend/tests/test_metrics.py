import pytest

from thoughts_backend import create_app
from thoughts_backend.metrics import MILLISECOND_BUCKETS
from thoughts_common import metrics
from thoughts_common.testing.metrics import Samples


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    return Samples(response.get_data(as_text=True))


def test_requests_and_req_time_count_each_request_with_its_labels(client, bruce):
    labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    before = scrape(client)

    for _ in range(3):
        client.get("/api/thoughts/?search=x")
    client.get("/api/thoughts/?limit=0")

    after = scrape(client)
    assert after.value("requests_total", **labels) - before.value("requests_total", **labels) == 3
    assert after.value("req_time_count", **labels) - before.value("req_time_count", **labels) == 3
    bad = {**labels, "code": "400"}
    assert after.value("requests_total", **bad) - before.value("requests_total", **bad) == 1


def test_req_time_has_millisecond_buckets(client):
    client.get("/api/thoughts/")
    samples = scrape(client)
    labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    bounds = {
        have["le"] for name, have, _ in samples.samples if name == "req_time_bucket" and have.items() >= labels.items()
    }
    assert bounds == {str(float(b)) for b in MILLISECOND_BUCKETS} | {"+Inf"}
    # A request to an in-process app takes well under a second: milliseconds, not seconds, are observed.
    total = samples.value("req_time_sum", **labels)
    count = samples.value("req_time_count", **labels)
    assert 0 < total / count < 1000


def test_thoughts_created_counts_only_successful_posts(client, bruce):
    before = scrape(client).value("thoughts_created_total")

    client.post("/api/me/thoughts/", json={"text": "one"}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": "two"}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": ""}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": "no token"})

    assert scrape(client).value("thoughts_created_total") - before == 2


def test_probes_and_scrapes_are_not_counted(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/readyz")
    after = scrape(client)
    endpoints = {have.get("endpoint") for name, have, _ in after.samples if name == "requests_total"}
    assert not endpoints & {"healthz", "readyz", "prometheus_metrics"}
    assert after.total("requests_total") == before.total("requests_total")


def test_unmatched_routes_are_labelled_as_such(client):
    labels = {"endpoint": "unmatched", "method": "get", "code": "404"}
    before = scrape(client).value("requests_total", **labels)
    client.get("/no/such/page")
    assert scrape(client).value("requests_total", **labels) - before == 1


def test_metrics_enabled_false_removes_the_route_and_the_per_request_work(
    client, database_url, rsa_key_pair, monkeypatch
):
    before = scrape(client)
    monkeypatch.setenv("METRICS_ENABLED", "false")
    quiet = create_app({"DATABASE_URL": database_url, "JWT_PUBLIC_KEY": rsa_key_pair[1]})
    try:
        assert quiet.extensions["metrics"] is None
        quiet_client = quiet.test_client()
        assert quiet_client.get("/metrics").status_code == 404
        for _ in range(3):
            assert quiet_client.get("/api/thoughts/?search=x").status_code == 200
    finally:
        quiet.extensions["database"].dispose()

    labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    after = scrape(client)
    assert after.value("requests_total", **labels) == before.value("requests_total", **labels)
    assert after.value("req_time_count", **labels) == before.value("req_time_count", **labels)


def test_metrics_enabled_setting_is_true_or_false():
    assert metrics.enabled({}) is True
    assert metrics.enabled({"METRICS_ENABLED": "true"}) is True
    assert metrics.enabled({"METRICS_ENABLED": " OFF "}) is False
    assert metrics.enabled({"METRICS_ENABLED": "0"}) is False
    with pytest.raises(metrics.SettingError):
        metrics.enabled({"METRICS_ENABLED": "maybe"})
