"""No request outlives its client: each timeout of the chain ends before the next one gives up.

database lock < statement < the backends' answer timeout < backend harakiri
< the frontend's BACKEND_TIMEOUT_SECONDS < frontend harakiri, read from the
real defaults: thoughts_common.database_timeouts, the uWSGI ini files (as
uWSGI reads them: included files in place, the last value wins) and the
frontend's settings module.
"""

import os
import subprocess
import sys
from pathlib import Path

from thoughts_common import database_timeouts

ROOT = Path(__file__).resolve().parents[1]


def harakiri(ini):
    """The ``harakiri`` uWSGI ends up with for ``ini``."""
    value = None
    for line in ini.read_text().splitlines():
        key, _, setting = (part.strip() for part in line.partition("="))
        if key == "ini":
            included = harakiri(Path(setting.replace("%d", f"{ini.parent}/")).resolve())
            value = included if included is not None else value
        elif key == "harakiri":
            value = float(setting)
    return value


def frontend_backend_timeout(key_files):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_TIMEOUT", "JWT_PUBLIC_KEY"))}
    env.update(DJANGO_SECRET_KEY="x" * 50, JWT_PUBLIC_KEY_FILE=str(key_files[1]))
    code = "from mythoughts import settings; print(settings.BACKEND_TIMEOUT)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def test_each_timeout_ends_before_the_next_one_gives_up(monkeypatch, key_files):
    for name in database_timeouts.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    database = database_timeouts.from_environment()
    backends = {name: harakiri(ROOT / name / "uwsgi.ini") for name in ("thoughts_backend", "users_backend")}
    frontend_timeout = frontend_backend_timeout(key_files)
    frontend_harakiri = harakiri(ROOT / "frontend" / "uwsgi.ini")
    print(
        f"lock {database.lock:g} s < statement {database.statement:g} s < answer {database.answer:g} s "
        f"< harakiri {backends} < frontend backend timeout {frontend_timeout:g} s "
        f"< frontend harakiri {frontend_harakiri:g} s"
    )

    assert database.lock < database.statement < database.answer
    # The worst single fault: a busy pool, a fresh connection, then one round trip left unanswered.
    worst_request = database.pool_wait + database.connect + database.answer
    for seconds in backends.values():
        assert database.answer < worst_request < seconds < frontend_timeout < frontend_harakiri


def test_the_harakiri_reader_follows_includes_and_keeps_the_last_value(tmp_path):
    (tmp_path / "base.ini").write_text("[uwsgi]\nharakiri = 15\n")
    (tmp_path / "service.ini").write_text("[uwsgi]\nharakiri = 3\nini = %d/base.ini\n")
    (tmp_path / "frontend.ini").write_text("[uwsgi]\nini = %dbase.ini\nharakiri = 60\n")
    assert harakiri(tmp_path / "service.ini") == 15
    assert harakiri(tmp_path / "frontend.ini") == 60
