"""The book's own metrics, next to the exporter's defaults that thoughts_common installs.

Created with prometheus_client at import time, so that under uWSGI with
``PROMETHEUS_MULTIPROC_DIR`` every worker writes its samples to the shared
folder and ``/metrics`` adds them up.
"""

import re
import time

from flask import g, request
from prometheus_client import Counter, Histogram

from thoughts_common.metrics import NOT_TRACKED, enabled

LABELS = ("endpoint", "method", "code")
# The book kept the default buckets, which are made for seconds; these fit milliseconds.
MILLISECOND_BUCKETS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

REQUESTS = Counter("requests", "Requests by endpoint, method and status code", LABELS)
REQUEST_TIME = Histogram("req_time", "Request time in milliseconds", LABELS, buckets=MILLISECOND_BUCKETS)
THOUGHTS_CREATED = Counter("thoughts_created", "Thoughts created through the API")

_NOT_TRACKED = [re.compile(pattern) for pattern in NOT_TRACKED]


def init_app(app):
    if not enabled():
        return

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _record(response):
        started = g.pop("metrics_started", None)
        if started is None or any(pattern.match(request.path) for pattern in _NOT_TRACKED):
            return response
        elapsed_ms = (time.perf_counter() - started) * 1000
        # As in the book: the Flask endpoint name and the lower-case method.
        labels = (request.endpoint or "unmatched", request.method.lower(), str(response.status_code))
        REQUESTS.labels(*labels).inc()
        REQUEST_TIME.labels(*labels).observe(elapsed_ms)
        return response
