"""Commands against the container engine, and a compose project of the tests' own."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

from thoughts_common import tokens
from thoughts_common.testing.network import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "containers"
COMPOSE_FILES = ("docker-compose.yaml", "docker-compose.offline.yaml")

# The ports compose publishes on 127.0.0.1 (the variable that moves each, its default).
PUBLISHED = {
    "frontend": ("FRONTEND_PORT", 8000),
    "thoughts-backend": ("THOUGHTS_BACKEND_PORT", 8001),
    "users-backend": ("USERS_BACKEND_PORT", 8002),
    "frontail": ("FRONTAIL_PORT", 9001),
    "prometheus": ("PROMETHEUS_PORT", 9090),
    "alertmanager": ("ALERTMANAGER_PORT", 9093),
}

phases = []  # (what, seconds, ok) in the order they ran


def run(args, timeout=600, check=True, **kwargs):
    """Run a command; with ``check`` a failure shows its output."""
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} -> exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


class Phase:
    """``with Phase("up --wait"):`` times the block and records it for the summary."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, kind, value, traceback):
        self.seconds = time.monotonic() - self.started
        phases.append((self.what, self.seconds, kind is None))
        print(f"phase {self.what}: {self.seconds:.1f} s")
        return False


def inspect(*names):
    """`docker inspect` of containers, images or volumes, as dicts."""
    return json.loads(run(["docker", "inspect", *names]).stdout)


def port_is_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def write_secrets(folder):
    """What `make compose-secrets` makes, for this run only: a key pair and three passwords."""
    folder.mkdir(parents=True, exist_ok=True)
    private, public = tokens.new_key_pair()
    files = {"private.pem": private, "public.pem": public}
    for name in ("postgres-password", "django-secret-key", "grafana-admin-password"):
        files[name] = os.urandom(24).hex()
    for name, text in files.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
    folder.chmod(0o755)
    return folder


class ComposeProject:
    """``docker compose`` with our files (and ``extra_files``) under a project name of the tests' own.

    The published ports are the README's when they are free, else free ones
    (a ``make run`` may hold them); ``url(service)`` says where each one is.
    """

    def __init__(self, name, secrets, extra_files=()):
        self.name = name
        self.files = [ROOT / f for f in COMPOSE_FILES] + [Path(f) for f in extra_files]
        self.ports = {}
        env = {"COMPOSE_SECRETS": str(secrets), "COMPOSE_PROJECT_NAME": name}
        for service, (variable, default) in PUBLISHED.items():
            port = default if port_is_free(default) else free_port()
            self.ports[service] = port
            env[variable] = str(port)
        self.env = {**os.environ, **env}

    def url(self, service):
        return f"http://127.0.0.1:{self.ports[service]}"

    def command(self, *args):
        files = [part for path in self.files for part in ("-f", str(path))]
        return ["docker", "compose", "--project-directory", str(ROOT), *files, "-p", self.name, *args]

    def __call__(self, *args, timeout=600, check=True):
        return run(self.command(*args), timeout=timeout, check=check, env=self.env, cwd=ROOT)

    def container(self, service):
        """The id of the service's (first) container, running or not."""
        ids = self("ps", "--all", "--quiet", service).stdout.split()
        assert ids, f"no container for {service}"
        return ids[0]

    def state(self, service):
        return inspect(self.container(service))[0]["State"]

    def read(self, service, path):
        """A file inside a running service's container."""
        return self("exec", "-T", service, "cat", path).stdout

    def leftovers(self):
        """What of the project is left on the engine: containers, volumes, networks."""
        label = f"label=com.docker.compose.project={self.name}"
        found = {}
        for kind, listing in (
            ("containers", ["docker", "ps", "--all", "--quiet", "--filter", label]),
            ("volumes", ["docker", "volume", "ls", "--quiet", "--filter", label]),
            ("networks", ["docker", "network", "ls", "--quiet", "--filter", label]),
        ):
            found[kind] = run(listing).stdout.split()
        return found
