"""Prometheus, Alertmanager and the alert receiver, each on free loopback ports with test copies of metrics/.

The rules and the Alertmanager template are the real ones; the intervals,
``for`` durations and ``group_wait`` are shortened for the tests.
"""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from loopback_server import serve
from repository_paths import ALERTMANAGER_DIR, PROMETHEUS_DIR, RECEIVER
from yaml_files import read_yaml, write_yaml

from thoughts_common.testing.network import free_port


def start_alert_receiver(folder):
    port = free_port()
    alerts_file = Path(folder) / "alerts.jsonl"
    command = [sys.executable, RECEIVER, "--bind", "127.0.0.1", "--port", port, "--output", alerts_file]
    server = serve(command, port, "/healthz")
    server.alerts_file = alerts_file
    return server


def read_alerts(path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def render_alertmanager_config(folder, webhook_url, group_wait=None):
    """metrics/alertmanager/render.sh with ALERT_WEBHOOK_URL; optionally a shorter group_wait."""
    output = Path(folder) / "alertmanager.yml"
    result = subprocess.run(
        ["sh", str(ALERTMANAGER_DIR / "render.sh"), str(output)],
        env={**os.environ, "ALERT_WEBHOOK_URL": webhook_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if group_wait:
        config = read_yaml(output)
        config["route"]["group_wait"] = group_wait
        write_yaml(output, config)
    return output


def start_alertmanager(binary, folder, config_file):
    port = free_port()
    command = [
        binary,
        f"--config.file={config_file}",
        f"--storage.path={Path(folder) / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return serve(command, port, "/-/ready")


def prepare_prometheus_config(folder, targets, interval="1s", alert_for=None):
    """A copy of metrics/prometheus (config, rules) in ``folder`` with test targets and intervals.

    ``targets`` maps each job to a list of host:port; ``alert_for`` maps alert
    names to a shorter ``for`` (the expressions stay the real ones).
    """
    folder = Path(folder)
    config = read_yaml(PROMETHEUS_DIR / "prometheus.yml")
    config["global"].update(scrape_interval=interval, evaluation_interval=interval, scrape_timeout=interval)
    write_yaml(folder / "prometheus.yml", config)
    for rule_file in (PROMETHEUS_DIR / "rules").glob("*.yml"):
        rules = read_yaml(rule_file)
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "alert" in rule and rule["alert"] in (alert_for or {}):
                    rule["for"] = alert_for[rule["alert"]]
        write_yaml(folder / "rules" / rule_file.name, rules)
    for job, addresses in targets.items():
        write_yaml(folder / "targets" / f"{job}.yml", [{"targets": list(addresses)}])
    return folder / "prometheus.yml"


def start_prometheus(binary, folder, config_file, port=None):
    port = port or free_port()
    command = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={Path(folder) / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    return serve(command, port, "/-/ready")


@contextlib.contextmanager
def monitoring(prometheus_binary, alertmanager_binary, folder, service_targets, alert_for=None, group_wait="1s"):
    """Prometheus (1 s intervals, the real rules) -> Alertmanager (short group_wait) -> alert receiver.

    ``service_targets`` maps each service job to its host:port list; Prometheus
    and Alertmanager scrape themselves. Yields {"prometheus", "alertmanager",
    "receiver"} and stops all three at the end.
    """
    folder = Path(folder)
    started = []
    try:
        receiver = start_alert_receiver(folder / "receiver")
        started.append(receiver)
        am_config = render_alertmanager_config(folder / "alertmanager", f"{receiver.url}/alerts", group_wait)
        alertmanager = start_alertmanager(alertmanager_binary, folder / "alertmanager", am_config)
        started.append(alertmanager)

        prometheus_port = free_port()
        targets = {
            **service_targets,
            "prometheus": [f"127.0.0.1:{prometheus_port}"],
            "alertmanager": [f"127.0.0.1:{alertmanager.port}"],
        }
        config = prepare_prometheus_config(folder / "prometheus", targets, alert_for=alert_for)
        prometheus = start_prometheus(prometheus_binary, folder / "prometheus", config, port=prometheus_port)
        started.append(prometheus)
        yield {"prometheus": prometheus, "alertmanager": alertmanager, "receiver": receiver}
    finally:
        for server in reversed(started):
            server.stop()
