"""A throwaway PostgreSQL server for a test run: made with ``initdb`` in a fresh
temporary folder, listening on a free loopback port with trust authentication,
stopped and deleted when the run ends.

    python -m thoughts_common.testing.throwaway_postgres -- COMMAND...

runs COMMAND with ``TEST_POSTGRES_URL`` naming such a server (``make test``
runs every test suite inside one); when ``TEST_POSTGRES_URL`` is already set,
COMMAND runs against that server and nothing is started. The server's
programs come from ``PATH`` or Debian's ``/usr/lib/postgresql/<version>/bin``.

PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (Debian's package makes it), else as ``nobody``.
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

FOLDER_PREFIX = "thoughts-test-postgres-"
SETTINGS = {"listen_addresses": "'127.0.0.1'", "max_connections": "200", "log_min_messages": "warning"}
# For the tests, a real server minus durability: a crash of a throwaway server loses nothing we keep.
# The bench keeps durability, or its writes would measure a database no one deploys.
NOT_DURABLE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class Unavailable(RuntimeError):
    """No PostgreSQL server can be made here (its programs are missing, or it did not start)."""


def binaries():
    """The folder with ``initdb`` and ``pg_ctl``: the one on PATH, else Debian's newest."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]), reverse=True)
    if versions:
        return versions[0].parent
    raise Unavailable(
        "no PostgreSQL server programs (initdb, pg_ctl): install Debian's postgresql-15 "
        "(make test does, as root) or set TEST_POSTGRES_URL to a server"
    )


def _owner():
    """The user the server runs as: ourselves, or ``postgres`` (else ``nobody``) when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise Unavailable("running as root, and there is no postgres or nobody user to run PostgreSQL as")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ThrowawayPostgres:
    """One server; ``start()`` returns its URL, ``stop()`` ends it and deletes its files."""

    def __init__(self, durable=False):
        self.durable = durable
        self.folder = None
        self.url = None
        self._owner = None
        self._bin = None

    @property
    def data(self):
        return self.folder / "data"

    def _run(self, program, *args, timeout=120):
        result = subprocess.run(
            [str(self._bin / program), *args],
            user=self._owner.pw_uid if self._owner else None,
            group=self._owner.pw_gid if self._owner else None,
            extra_groups=[] if self._owner else None,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # Its own session: Ctrl-C in the terminal reaches the tests, which drop their databases, and
            # only then do we stop the server.
            start_new_session=True,
        )
        if result.returncode != 0:
            raise Unavailable(f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}".strip())
        return result.stdout

    def start(self):
        self._bin = binaries()
        self._owner = _owner()
        remove_abandoned()
        # The folder names the process that owns it, so a later run can clean up after a killed one.
        self.folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        if self._owner:
            os.chown(self.folder, self._owner.pw_uid, self._owner.pw_gid)
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
            port = _free_port()
            settings = {**SETTINGS, **({} if self.durable else NOT_DURABLE)}
            settings |= {"port": str(port), "unix_socket_directories": f"'{self.folder}'"}
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.folder / "server.log"))
        except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            self.stop()
            raise Unavailable(f"the throwaway PostgreSQL server did not start: {exc}\n{tail}".strip()) from None
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.url

    def stop(self):
        if self.folder is None:
            return
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Unavailable, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-w", "-t", "30", "-m", "fast", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = self.url = None

    def version(self):
        return self._run("postgres", "--version").strip()


def remove_abandoned():
    """Stop and delete the servers of earlier runs whose process is gone (killed before it could clean up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        match = re.match(rf"{FOLDER_PREFIX}(\d+)-", folder.name)
        if not match or _pid_alive(int(match.group(1))):
            continue
        server = ThrowawayPostgres()
        server.folder, server._bin, server._owner = folder, binaries(), _owner()
        server.stop()


@contextlib.contextmanager
def running(durable=False):
    """The URL of a throwaway server for the ``with`` block."""
    server = ThrowawayPostgres(durable)
    try:
        yield server.start()
    finally:
        server.stop()


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if os.environ.get("TEST_POSTGRES_URL"):
        return subprocess.call(argv)
    server = ThrowawayPostgres()
    # Ctrl-C and SIGTERM (a CI timeout, a supervisor) alike: the command gets one SIGINT, so that pytest
    # drops its databases, and then the server stops.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        url = server.start()
        print(f"== {server.version()} for the tests at {url} (data in {server.folder})", flush=True)
    except Unavailable as exc:
        server.stop()
        print(f"throwaway_postgres: {exc}", file=sys.stderr)
        return 1
    child = None
    try:
        # Its own process group, so that a Ctrl-C reaches it once, from us.
        child = subprocess.Popen(argv, env={**os.environ, "TEST_POSTGRES_URL": url}, process_group=0)
        return child.wait()
    except KeyboardInterrupt:
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)
            child.wait()
        return 130
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
