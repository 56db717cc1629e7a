"""A lint of our Dockerfiles: pinned bases, a non-root user, no secrets baked in."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
DOCKERFILES = sorted(
    {
        (ROOT / s["build"]["context"] / s["build"].get("dockerfile", "Dockerfile")).resolve()
        for s in COMPOSE["services"].values()
        if "build" in s
    }
)
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|PRIVATE|API_?KEY|CREDENTIAL)", re.IGNORECASE)


def instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            yield keyword.upper(), rest.strip()


def stages(path):
    """{stage name: its instructions}."""
    result, current = {}, None
    for keyword, rest in instructions(path):
        if keyword == "FROM":
            parts = rest.split()
            current = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else f"stage{len(result)}"
            result[current] = [(keyword, rest)]
        elif current:
            result[current].append((keyword, rest))
    return result


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=ids(DOCKERFILES))
def test_bases_are_pinned_debian(dockerfile):
    names = set(stages(dockerfile))
    for keyword, rest in instructions(dockerfile):
        if keyword == "FROM":
            image = rest.split()[0]
            if image in names:
                continue  # a stage of this file
            assert image == "debian:bookworm-slim", f"{dockerfile.name}: FROM {image}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=ids(DOCKERFILES))
def test_images_run_as_a_non_root_user(dockerfile):
    for name, body in stages(dockerfile).items():
        users = [rest for keyword, rest in body if keyword == "USER"]
        if name in ("build",):
            continue
        if not users:
            # A stage built FROM another inherits its user.
            parent = body[0][1].split()[0]
            assert parent in stages(dockerfile), f"{dockerfile.name}: stage {name} has no USER"
            continue
        assert users[-1] not in ("root", "0", "0:0"), f"{dockerfile.name}: stage {name} ends as root"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=ids(DOCKERFILES))
def test_no_secret_values_baked_in(dockerfile):
    for keyword, rest in instructions(dockerfile):
        if keyword not in ("ENV", "ARG"):
            continue
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)", rest):
            assert not (SECRET_NAME.search(name) and value.strip('"')), f"{dockerfile.name}: {keyword} {name}=..."


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=ids(DOCKERFILES))
def test_runtime_stage_is_complete(dockerfile):
    runtime = dict(stages(dockerfile)).get("runtime")
    assert runtime, f"{dockerfile.name} has no runtime stage"
    keywords = {keyword for keyword, _ in runtime}
    assert "CMD" in keywords or "ENTRYPOINT" in keywords
    if "service.Dockerfile" in dockerfile.name:
        assert {"EXPOSE", "HEALTHCHECK", "USER"} <= keywords
        build_stage = dict(stages(dockerfile))["build"]
        compilers = " ".join(rest for keyword, rest in build_stage if keyword == "RUN")
        assert "gcc" in compilers
        runtime_runs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
        assert "gcc" not in runtime_runs, "compilers belong to the build stage only"


def test_dockerignore_keeps_state_and_virtualenvs_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)
