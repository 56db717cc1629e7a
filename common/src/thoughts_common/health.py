"""``/healthz`` (the process answers) and ``/readyz`` (its database answers)."""

import concurrent.futures
import logging

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0

# One worker thread: a hung check must not pile up threads under repeated probes.
_checker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz")


def check_ready(check, timeout=READY_TIMEOUT_SECONDS):
    """None when ``check()`` succeeds within ``timeout`` seconds, else the reason."""
    future = _checker.submit(check)
    try:
        future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any driver error means "not ready"
        return type(exc).__name__
    return None


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
