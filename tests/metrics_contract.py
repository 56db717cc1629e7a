"""What Prometheus scrapes and what the rules and dashboards may read.

The jobs of metrics/prometheus/prometheus.yml, the metrics the services
expose (the contract of issue 5) and the rules of metrics/prometheus/rules.
"""

from repository_paths import PROMETHEUS_DIR
from yaml_files import read_yaml

# Jobs of prometheus.yml; the first three are the services.
SERVICE_JOBS = ("frontend", "thoughts_backend", "users_backend")
JOBS = (*SERVICE_JOBS, "prometheus", "alertmanager")

# The metrics the services expose; histograms with their series.
HISTOGRAMS = {
    "flask_http_request_duration_seconds",
    "django_http_requests_latency_seconds_by_view_method",
    "req_time",
}
SERVICE_METRICS = {
    "up",
    "flask_http_request_total",
    "django_http_responses_total_by_status_view_method_total",
    "django_http_requests_total_by_view_transport_method_total",
    "requests_total",
    "thoughts_created_total",
    "logins_total",
    "uwsgi_workers",
    "uwsgi_workers_busy",
    "uwsgi_memory_rss_bytes",
} | {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")}


def rules():
    """Every rule of metrics/prometheus/rules/*.yml."""
    return [
        rule
        for path in sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
        for group in read_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def known_metrics():
    """What a rule or panel may read: the services' metrics and our recording rules."""
    return SERVICE_METRICS | {rule["record"] for rule in rules() if "record" in rule}
