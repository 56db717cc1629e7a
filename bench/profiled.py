"""A service's WSGI app wrapped in cProfile, for ``BENCH_PROFILE=1`` (one worker, one thread).

``BENCH_PROFILE_APP`` names the app (``thoughts_backend.wsgi:app``). Every
request is profiled into one profile; ``GET /__bench_profile__?name=N``
writes it to ``BENCH_PROFILE_DIR/N.prof`` and starts a new one, so the bench
gets one profile per endpoint.
"""

import cProfile
import importlib
import os
from pathlib import Path
from urllib.parse import parse_qs

DUMP_PATH = "/__bench_profile__"

_module, _, _attribute = os.environ["BENCH_PROFILE_APP"].partition(":")
_app = getattr(importlib.import_module(_module), _attribute)
_folder = Path(os.environ["BENCH_PROFILE_DIR"])
_profiler = cProfile.Profile()


def _dump(environ, start_response):
    global _profiler
    name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["profile"])[0]
    _profiler.dump_stats(_folder / f"{Path(name).name}.prof")
    _profiler = cProfile.Profile()
    start_response("204 No Content", [])
    return []


def application(environ, start_response):
    if environ.get("PATH_INFO") == DUMP_PATH:
        return _dump(environ, start_response)
    _profiler.enable()
    try:
        # The whole answer, body included, inside the profile.
        result = _app(environ, start_response)
        try:
            body = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    finally:
        _profiler.disable()
    return body
