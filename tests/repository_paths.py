"""Where the repository's parts are, for the tests under tests/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "logs"
METRICS = ROOT / "metrics"
PROMETHEUS_DIR = METRICS / "prometheus"
ALERTMANAGER_DIR = METRICS / "alertmanager"
GRAFANA_DIR = METRICS / "grafana"
RECEIVER = METRICS / "alert_receiver" / "receiver.py"
