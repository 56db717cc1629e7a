"""``/healthz`` (the process answers) and ``/readyz`` (its database answers)."""

import concurrent.futures
import logging
import threading
import time

from thoughts_common import tracing

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0

# One worker thread: a hung check must not pile up threads under repeated probes.
_checker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz")
# The check still running for each check function, and when it started.
_running = {}
_running_lock = threading.Lock()


def check_ready(check, timeout=READY_TIMEOUT_SECONDS):
    """None when ``check()`` succeeds within ``timeout`` seconds, else the reason.

    A probe that comes while an earlier check is still running shares it, and
    the bound counts from that check's start: while the database stalls, a
    probe answers as soon as the running check is overdue instead of holding
    a uWSGI thread for the whole bound again.
    """
    with _running_lock:
        future, started = _running.get(check, (None, 0.0))
        if future is None or future.done():
            future, started = _checker.submit(_untraced, check), time.monotonic()
            _running[check] = (future, started)
    try:
        future.result(timeout=max(0.0, started + timeout - time.monotonic()))
    except concurrent.futures.TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any driver error means "not ready"
        return type(exc).__name__
    return None


def _untraced(check):
    with tracing.untraced():
        check()


def init_app(app, check):
    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        problem = check_ready(check)
        if problem:
            logger.warning("Not ready: database unreachable (%s)", problem)
            return {"message": f"database unreachable: {problem}"}, 503
        return {"status": "ready"}
