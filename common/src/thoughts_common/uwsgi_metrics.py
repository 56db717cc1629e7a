"""Saturation gauges of the uWSGI worker pool, refreshed at every scrape.

``uwsgi.workers()`` reads the master's shared table, so whichever worker
serves ``/metrics`` sees the whole pool. Outside uWSGI nothing is reported.
"""

import functools
import os

from prometheus_client import Gauge

from thoughts_common import metrics_files, uwsgi_runtime

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@functools.cache
def _gauges():
    # Created on first use, once the multiprocess folder exists. "mostrecent":
    # the value of the last scrape wins instead of a sum over the workers.
    return (
        Gauge("uwsgi_workers", "uWSGI worker processes", multiprocess_mode="mostrecent"),
        Gauge("uwsgi_workers_busy", "uWSGI workers serving requests, the scrape aside", multiprocess_mode="mostrecent"),
        Gauge("uwsgi_memory_rss_bytes", "Resident memory of all uWSGI workers", multiprocess_mode="mostrecent"),
    )


def _rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def update():
    uwsgi = uwsgi_runtime.module()
    if uwsgi is None:
        return
    me = uwsgi.worker_id()
    workers = [w for w in uwsgi.workers() if w.get("pid")]
    count, busy, rss = _gauges()
    count.set(len(workers))
    # uwsgi.workers() gives the status as bytes (b"busy").
    busy.set(sum(1 for w in workers if w["status"] in (b"busy", "busy") and w["id"] != me))
    rss.set(sum(_rss_bytes(w["pid"]) for w in workers))


def refreshed(view):
    """Decorate a metrics view so the gauges are fresh when it answers.

    It also folds the files of dead workers first, and reads while no fold runs
    (thoughts_common.metrics_files): every service's ``/metrics`` goes through here.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with metrics_files.consistent_folder():
            update()
            return view(*args, **kwargs)

    return wrapper
