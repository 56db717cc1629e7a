"""A lint of our Dockerfiles: pinned bases, a non-root user, no secrets baked in."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The system and its offline stand-ins (docker-compose.offline.yaml adds build sections).
COMPOSE_FILES = [
    yaml.safe_load((ROOT / name).read_text()) for name in ("docker-compose.yaml", "docker-compose.offline.yaml")
]
DOCKERFILES = sorted(
    {
        (ROOT / s["build"]["context"] / s["build"].get("dockerfile", "Dockerfile")).resolve()
        for compose in COMPOSE_FILES
        for s in compose["services"].values()
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


def final_user(dockerfile, stage):
    """The USER an image built to ``stage`` runs as: the stage's last, else its parent stage's."""
    all_stages = stages(dockerfile)
    while stage in all_stages:
        users = [rest for keyword, rest in all_stages[stage] if keyword == "USER"]
        if users:
            return users[-1]
        stage = all_stages[stage][0][1].split()[0]  # FROM <parent>
    return None


BUILT = sorted(
    {
        (name, s["build"]["context"], s["build"].get("dockerfile", "Dockerfile"), s["build"]["target"])
        for compose in COMPOSE_FILES
        for name, s in compose["services"].items()
        if "build" in s
    }
)


@pytest.mark.parametrize(("name", "context", "dockerfile", "target"), BUILT, ids=[b[0] for b in BUILT])
def test_images_run_as_a_non_root_user(name, context, dockerfile, target):
    user = final_user(ROOT / context / dockerfile, target)
    assert user is not None, f"{name}: stage {target} of {dockerfile} sets no USER (it would run as root)"
    assert user.split(":")[0] not in ("root", "0"), f"{name}: stage {target} of {dockerfile} runs as {user}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=ids(DOCKERFILES))
def test_no_secret_values_baked_in(dockerfile):
    for keyword, rest in instructions(dockerfile):
        if keyword not in ("ENV", "ARG"):
            continue
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)", rest):
            assert not (SECRET_NAME.search(name) and value.strip('"')), f"{dockerfile.name}: {keyword} {name}=..."


@pytest.mark.parametrize(("name", "context", "dockerfile", "target"), BUILT, ids=[b[0] for b in BUILT])
def test_every_built_image_says_what_it_runs(name, context, dockerfile, target):
    all_stages = stages(ROOT / context / dockerfile)
    keywords = set()
    while target in all_stages:  # the stage and the stages it is built FROM
        keywords |= {keyword for keyword, _ in all_stages[target]}
        target = all_stages[target][0][1].split()[0]
    assert {"CMD", "ENTRYPOINT"} & keywords, f"{name}: no CMD or ENTRYPOINT"


def test_service_runtime_stage_is_complete_and_without_compilers():
    all_stages = stages(ROOT / "common" / "docker" / "service.Dockerfile")
    runtime = all_stages["runtime"]
    assert {"CMD", "EXPOSE", "HEALTHCHECK", "USER"} <= {keyword for keyword, _ in runtime}
    compilers = " ".join(rest for keyword, rest in all_stages["build"] if keyword == "RUN")
    assert "gcc" in compilers
    for stage in ("python", "runtime"):
        runs = " ".join(rest for keyword, rest in all_stages[stage] if keyword == "RUN")
        assert "gcc" not in runs, "compilers belong to the build stage only"


def test_dockerignore_keeps_state_and_virtualenvs_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)
