"""Prometheus metrics for the Flask services, correct with several uWSGI workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its samples to files
in that folder and ``/metrics`` adds them up, so one scrape sees the whole
process pool. The variable must be set before prometheus_client is imported
(uwsgi.ini and the process runners do that). prometheus-flask-exporter is
imported only by ``init_app``: the Django frontend uses ``prepare_multiproc_dir``
without Flask.

``METRICS_ENABLED=false`` turns metrics off (``make bench`` measures what they
cost): no ``/metrics`` route and no per-request hooks.
"""

import os
from pathlib import Path

from thoughts_common import settings, uwsgi_metrics, uwsgi_runtime

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENABLED_ENV = "METRICS_ENABLED"
NOT_TRACKED = [r"^/healthz$", r"^/readyz$", r"^/metrics$"]
# The latency SLO (metrics/slo/objectives.yml) counts the requests answered
# within 300 ms, which needs a histogram bucket exactly there.
SLO_LATENCY_BUCKET = 0.3


def _in_uwsgi_worker():
    uwsgi = uwsgi_runtime.module()
    return uwsgi is not None and uwsgi.worker_id() > 0


SettingError = settings.SettingError


def enabled(environ=None):
    """``METRICS_ENABLED``: on unless false; a value that is not a boolean is a SettingError."""
    return settings.get(ENABLED_ENV, environ)


def prepare_multiproc_dir():
    """Create the folder and drop samples of earlier runs.

    Runs where the app is loaded: in the uWSGI master before it forks the
    workers, or in a single process. A worker loading the app lazily must not
    wipe what its siblings wrote, so it leaves the folder alone.
    """
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    if not _in_uwsgi_worker():
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
    return folder


def init_app(app, **kwargs):
    """The exporter with ``/metrics``, or None when metrics are off."""
    # Also when off: the apps' own counters (e.g. logins) still write their files there.
    prepare_multiproc_dir()
    if not enabled():
        return None
    from prometheus_client import Histogram
    from prometheus_flask_exporter import PrometheusMetrics

    return PrometheusMetrics(
        app,
        group_by="url_rule",
        buckets=tuple(sorted({*Histogram.DEFAULT_BUCKETS, SLO_LATENCY_BUCKET})),
        excluded_paths=NOT_TRACKED,
        metrics_decorator=uwsgi_metrics.refreshed,
        **kwargs,
    )
