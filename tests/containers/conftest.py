"""The container engine and the images, built once per session.

Everything here runs for real: the ``docker`` CLI against a Docker-compatible
engine (``DOCKER_HOST``, else the default socket: Docker, or podman's API).
Without an engine the tests skip, and fail with ``CI=true``. The
images are built once per session by ``tools/compose-build --offline`` (the
third-party images from Debian packages: nothing needs a registry), reusing
the layers of earlier runs. The time each phase took is printed at the end
of the run and written to test-artifacts/containers/phases.txt.
"""

import os
import shutil

import pytest
from compose_project import ARTIFACTS, Phase, phases, run
from repository_paths import ROOT

from thoughts_common.testing.postgres import unavailable


def pytest_terminal_summary(terminalreporter):
    if not phases:
        return
    lines = [f"{seconds:7.1f} s  {what}{'' if ok else '  (FAILED)'}" for what, seconds, ok in phases]
    lines.append(f"{sum(seconds for _, seconds, _ in phases):7.1f} s  in all")
    terminalreporter.write_sep("-", "container tests: time per phase")
    for line in lines:
        terminalreporter.write_line(line)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "phases.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def engine():
    """The engine's version once it answers; else skip (fail with CI=true)."""
    if shutil.which("docker") is None:
        unavailable("the docker CLI is not installed (a Docker engine, or podman's API and the docker CLI)")
    answer = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=60, check=False)
    if answer.returncode != 0:
        unavailable(
            f"no container engine answers `docker version` (DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')}): "
            f"{answer.stderr.strip()[-300:]}"
        )
    if run(["docker", "compose", "version"], timeout=60, check=False).returncode != 0:
        unavailable("`docker compose` (v2) is not installed")
    return answer.stdout.strip()


@pytest.fixture(scope="session")
def images(engine):
    """Every image of the compose system, offline stand-ins and test stages included, built once."""
    with Phase("build every image (tools/compose-build --offline)"):
        result = run([ROOT / "tools" / "compose-build", "--offline"], timeout=3600, cwd=ROOT)
    print(result.stdout)
    return result.stdout
