"""Alertmanager configuration, the alert receiver, and an alert going end to end."""

import datetime as dt
import subprocess
import time

import pytest
import requests
from monitoring_stack import read_alerts, render_alertmanager_config, start_alert_receiver
from repository_paths import ALERTMANAGER_DIR, PROMETHEUS_DIR
from yaml_files import read_yaml

from thoughts_common.testing.network import wait_until

SAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="TargetDown", job="thoughts_backend"}',
    "status": "firing",
    "receiver": "webhook",
    "groupLabels": {"alertname": "TargetDown", "job": "thoughts_backend"},
    "commonLabels": {"alertname": "TargetDown", "job": "thoughts_backend"},
    "commonAnnotations": {},
    "externalURL": "http://127.0.0.1:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "TargetDown", "job": "thoughts_backend", "instance": "127.0.0.1:8001"},
            "annotations": {"summary": "thoughts_backend is down on 127.0.0.1:8001"},
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": "0123456789abcdef",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "TargetDown", "job": "thoughts_backend", "instance": "127.0.0.1:8011"},
            "annotations": {},
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "2024-01-01T00:05:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": "fedcba9876543210",
        },
    ],
}


def render(output, url):
    env = {"PATH": "/usr/bin:/bin"}
    if url is not None:
        env["ALERT_WEBHOOK_URL"] = url
    return subprocess.run(
        ["sh", str(ALERTMANAGER_DIR / "render.sh"), str(output)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_rendered_alertmanager_config_passes_amtool(amtool, tmp_path):
    output = render_alertmanager_config(tmp_path, "http://127.0.0.1:9095/alerts")
    result = subprocess.run([amtool, "check-config", str(output)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

    config = read_yaml(output)
    [receiver] = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    assert receiver["webhook_configs"][0]["url"] == "http://127.0.0.1:9095/alerts"
    # short enough for a demo, long enough to group a burst
    assert config["route"]["group_wait"] in ("5s", "10s", "15s")


def test_the_template_alone_is_not_a_valid_config(amtool):
    # Alertmanager 0.25 expands no variables: starting it on the template must fail loudly.
    result = subprocess.run(
        [amtool, "check-config", str(ALERTMANAGER_DIR / "alertmanager.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_render_keeps_special_characters_of_the_url(tmp_path):
    url = "https://hooks.example.com/services/T0|B1?token=a&b=c\\d"
    result = render(tmp_path / "am.yml", url)
    assert result.returncode == 0, result.stderr
    assert read_yaml(tmp_path / "am.yml")["receivers"][0]["webhook_configs"][0]["url"] == url


@pytest.mark.parametrize("url", [None, "", "ftp://example.com/", "http://a b/", "http://x/'y"])
def test_render_refuses_a_missing_or_bad_url(tmp_path, url):
    result = render(tmp_path / "am.yml", url)
    assert result.returncode == 1
    assert "ALERT_WEBHOOK_URL" in result.stderr
    assert not (tmp_path / "am.yml").exists()


def test_render_then_runs_the_command(tmp_path):
    result = subprocess.run(
        ["sh", str(ALERTMANAGER_DIR / "render.sh"), str(tmp_path / "am.yml"), "--", "echo", "started"],
        env={"PATH": "/usr/bin:/bin", "ALERT_WEBHOOK_URL": "http://127.0.0.1:1/"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"
    assert (tmp_path / "am.yml").exists()


def test_alert_receiver_appends_every_posted_alert(tmp_path):
    receiver = start_alert_receiver(tmp_path)
    try:
        answer = requests.post(f"{receiver.url}/alerts", json=SAMPLE, timeout=5)
        assert answer.status_code == 200
        assert answer.json() == {"written": 2}
        requests.post(f"{receiver.url}/", json={**SAMPLE, "alerts": SAMPLE["alerts"][:1]}, timeout=5)

        entries = read_alerts(receiver.alerts_file)
        fingerprints = [entry["fingerprint"] for entry in entries]
        assert fingerprints == ["0123456789abcdef", "fedcba9876543210", "0123456789abcdef"]
        first = entries[0]
        assert first["status"] == "firing"
        assert first["labels"]["alertname"] == "TargetDown"
        assert first["receiver"] == "webhook"
        assert first["receivedAt"]
        # the last alerts are visible over HTTP too
        assert len(requests.get(receiver.url, timeout=5).json()) == 3

        for bad in (b"not json", b"{}", b'{"alerts": "no"}', b"[1, 2]"):
            answer = requests.post(f"{receiver.url}/alerts", data=bad, timeout=5)
            assert answer.status_code == 400, bad
        assert len(read_alerts(receiver.alerts_file)) == 3
    finally:
        receiver.stop()


def prometheus_api(stack, path, **params):
    answer = requests.get(f"{stack['prometheus'].url}/api/v1/{path}", params=params, timeout=5)
    answer.raise_for_status()
    return answer.json()["data"]


def test_target_down_alert_reaches_the_receiver_through_alertmanager(alerting_stack):
    started = time.monotonic()
    dead_instance = alerting_stack["dead_targets"]["thoughts_backend"][0]

    def delivered():
        return [
            entry
            for entry in read_alerts(alerting_stack["receiver"].alerts_file)
            if entry["labels"].get("alertname") == "TargetDown"
            and entry["labels"].get("job") == "thoughts_backend"
            and entry["status"] == "firing"
        ]

    [alert, *_] = wait_until(delivered, timeout=90, interval=0.5, message="TargetDown at the receiver")
    assert alert["labels"]["instance"] == dead_instance
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == f"thoughts_backend is down on {dead_instance}"
    # It came through Alertmanager's route, not from Prometheus directly.
    assert alert["receiver"] == "webhook"
    print(f"TargetDown reached the receiver {time.monotonic() - started:.1f} s after the stack was up")


def test_every_rule_evaluates_without_error_on_a_live_prometheus(alerting_stack):
    expected = {
        rule.get("alert") or rule.get("record")
        for path in (PROMETHEUS_DIR / "rules").glob("*.yml")
        for group in read_yaml(path)["groups"]
        for rule in group["rules"]
    }

    def evaluated():
        groups = prometheus_api(alerting_stack, "rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        # Never evaluated: Go's zero time.
        if not rules or any(rule.get("lastEvaluation", "0001").startswith("0001") for rule in rules):
            return None
        return rules

    rules = wait_until(evaluated, timeout=30, interval=0.5, message="every rule evaluated once")
    assert {rule["name"] for rule in rules} == expected
    broken = {rule["name"]: rule.get("lastError") for rule in rules if rule["health"] != "ok"}
    assert broken == {}


def test_alertmanager_is_discovered_and_scraped(alerting_stack):
    def discovered():
        active = prometheus_api(alerting_stack, "alertmanagers")["activeAlertmanagers"]
        return [item["url"] for item in active]

    [url] = wait_until(discovered, timeout=30, message="Alertmanager discovered")
    assert url.startswith(alerting_stack["alertmanager"].url)

    for job in ("alertmanager", "prometheus"):
        query = f'up{{job="{job}"}} == 1'
        wait_until(lambda q=query: prometheus_api(alerting_stack, "query", query=q)["result"], 30, message=query)


def test_a_budgets_page_holds_back_its_ticket_but_no_other(alerting_stack):
    """The inhibition of alertmanager.yml: a fast burn silences the slow burn of the same job and SLO only."""
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()

    def alert(name, job, slo, severity):
        labels = {"alertname": name, "job": job, "slo": slo, "severity": severity, "test": "inhibition"}
        return {"labels": labels, "endsAt": ends}

    posted = [
        alert("AvailabilityBudgetFastBurn", "thoughts_backend", "availability", "critical"),
        alert("AvailabilityBudgetSlowBurn", "thoughts_backend", "availability", "warning"),
        alert("LatencyBudgetSlowBurn", "thoughts_backend", "latency", "warning"),
        alert("AvailabilityBudgetSlowBurn", "users_backend", "availability", "warning"),
    ]
    base = alerting_stack["alertmanager"].url
    requests.post(f"{base}/api/v2/alerts", json=posted, timeout=5).raise_for_status()

    def key(labels):
        return labels["alertname"], labels["job"]

    def states():
        answer = requests.get(f"{base}/api/v2/alerts", params={"filter": 'test="inhibition"'}, timeout=5).json()
        found = {key(entry["labels"]): entry["status"]["state"] for entry in answer}
        return found if len(found) == len(posted) and "unprocessed" not in found.values() else None

    held_back = ("AvailabilityBudgetSlowBurn", "thoughts_backend")
    assert wait_until(states, timeout=30, interval=0.5, message="the posted alerts processed") == {
        ("AvailabilityBudgetFastBurn", "thoughts_backend"): "active",
        held_back: "suppressed",
        ("LatencyBudgetSlowBurn", "thoughts_backend"): "active",
        ("AvailabilityBudgetSlowBurn", "users_backend"): "active",
    }

    def delivered():
        entries = read_alerts(alerting_stack["receiver"].alerts_file)
        found = {key(entry["labels"]) for entry in entries if entry["labels"].get("test") == "inhibition"}
        return found if len(found) >= len(posted) - 1 else None

    # Each alert is a group of its own (alertname, job), all sent after the same group_wait.
    wait_until(delivered, timeout=30, interval=0.5, message="the three unsuppressed alerts at the receiver")
    time.sleep(3)
    assert delivered() == {key(entry["labels"]) for entry in posted} - {held_back}
