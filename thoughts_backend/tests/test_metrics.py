import pytest
from prometheus_client.parser import text_string_to_metric_families

from thoughts_backend import create_app
from thoughts_backend.metrics import MILLISECOND_BUCKETS
from thoughts_common import metrics


def scrape(client):
    """Every sample of /metrics as {(name, sorted label items): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_and_req_time_count_each_request_with_its_labels(client, bruce):
    labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    before = scrape(client)

    for _ in range(3):
        client.get("/api/thoughts/?search=x")
    client.get("/api/thoughts/?limit=0")

    after = scrape(client)
    assert value(after, "requests_total", **labels) - value(before, "requests_total", **labels) == 3
    assert value(after, "req_time_count", **labels) - value(before, "req_time_count", **labels) == 3
    bad = {**labels, "code": "400"}
    assert value(after, "requests_total", **bad) - value(before, "requests_total", **bad) == 1


def test_req_time_has_millisecond_buckets(client):
    client.get("/api/thoughts/")
    samples = scrape(client)
    labels = {"endpoint": "api_thoughts", "method": "get", "code": "200"}
    bounds = {
        dict(key[1])["le"] for key in samples if key[0] == "req_time_bucket" and dict(key[1]).items() >= labels.items()
    }
    assert bounds == {str(float(b)) for b in MILLISECOND_BUCKETS} | {"+Inf"}
    # A request to an in-process app takes well under a second: milliseconds, not seconds, are observed.
    total = value(samples, "req_time_sum", **labels)
    count = value(samples, "req_time_count", **labels)
    assert 0 < total / count < 1000


def test_thoughts_created_counts_only_successful_posts(client, bruce):
    before = value(scrape(client), "thoughts_created_total")

    client.post("/api/me/thoughts/", json={"text": "one"}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": "two"}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": ""}, headers=bruce)
    client.post("/api/me/thoughts/", json={"text": "no token"})

    assert value(scrape(client), "thoughts_created_total") - before == 2


def test_probes_and_scrapes_are_not_counted(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/readyz")
    after = scrape(client)
    endpoints = {dict(key[1]).get("endpoint") for key in after if key[0] == "requests_total"}
    assert not endpoints & {"healthz", "readyz", "prometheus_metrics"}
    assert sum(v for k, v in after.items() if k[0] == "requests_total") == sum(
        v for k, v in before.items() if k[0] == "requests_total"
    )


def test_unmatched_routes_are_labelled_as_such(client):
    labels = {"endpoint": "unmatched", "method": "get", "code": "404"}
    before = value(scrape(client), "requests_total", **labels)
    client.get("/no/such/page")
    assert value(scrape(client), "requests_total", **labels) - before == 1


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
    assert value(after, "requests_total", **labels) == value(before, "requests_total", **labels)
    assert value(after, "req_time_count", **labels) == value(before, "req_time_count", **labels)


def test_metrics_enabled_setting_is_true_or_false():
    assert metrics.enabled({}) is True
    assert metrics.enabled({"METRICS_ENABLED": "true"}) is True
    assert metrics.enabled({"METRICS_ENABLED": " OFF "}) is False
    assert metrics.enabled({"METRICS_ENABLED": "0"}) is False
    with pytest.raises(metrics.SettingError):
        metrics.enabled({"METRICS_ENABLED": "maybe"})
