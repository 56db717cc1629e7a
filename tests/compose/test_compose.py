"""docker-compose.yaml: valid, and wired to files and services that exist."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from image_versions import fill, versions

from thoughts_common.testing.postgres import unavailable

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
# Folders that make creates (never committed) and compose mounts.
GENERATED = {"var/compose-secrets"}
# Where each service listens inside its container.
UWSGI_PORT = 8000
THIRD_PARTY_PORTS = {
    "prometheus": 9090,
    "alertmanager": 9093,
    "alert-receiver": 9095,
    "db": 5432,
    "syslog": 5140,
    "jaeger": 4318,
}


def env_files(service):
    files = service.get("env_file", [])
    return [files] if isinstance(files, str) else files


def environment(service):
    values = {}
    for path in env_files(service):
        for line in (ROOT / path).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key] = value
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    values.update({k: str(v) for k, v in env.items()})
    return values


def bind_mounts(service):
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):
            yield source[2:]


def test_docker_compose_validates_the_file():
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose (Debian package docker-compose) is not installed")
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yaml", "config", "-q"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items() if "build" in s])
def test_build_context_dockerfile_and_target_exist(name):
    build = SERVICES[name]["build"]
    context = ROOT / build["context"]
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert context.is_dir() and dockerfile.is_file()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile.read_text(), re.MULTILINE | re.IGNORECASE)
    # A target is always named: it says which stage is the image (runtime or test).
    assert build["target"] in stages


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_mounted_file_exists(name):
    for source in bind_mounts(SERVICES[name]):
        if source in GENERATED:
            assert source in (ROOT / "tools" / "compose-secrets").read_text()
        else:
            assert (ROOT / source).exists(), f"{name} mounts ./{source}, which is not in the repository"
    for path in env_files(SERVICES[name]):
        assert (ROOT / path).is_file()


def named_hosts(service):
    hosts = set()
    for key, value in environment(service).items():
        hosts.update(re.findall(r"(?:https?|postgresql)://(?:[^@/]+@)?([A-Za-z0-9_.-]+)", value))
        if key == "SYSLOG_HOST":
            hosts.add(value)
    return hosts


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_service_named_in_urls_exists(name):
    for host in named_hosts(SERVICES[name]):
        assert host in SERVICES, f"{name} talks to {host}, which compose does not define"


def test_urls_use_the_ports_the_services_listen_on():
    for name, service in SERVICES.items():
        for value in environment(service).values():
            for host, port in re.findall(r"://(?:[^@/]+@)?([A-Za-z0-9_.-]+):(\d+)", value):
                expected = THIRD_PARTY_PORTS.get(host, UWSGI_PORT)
                assert int(port) == expected, f"{name}: {host}:{port}, but {host} listens on {expected}"


def test_prometheus_targets_match_services_and_ports():
    targets = ROOT / "metrics" / "prometheus" / "targets.compose"
    seen = set()
    for path in targets.glob("*.yml"):
        for group in yaml.safe_load(path.read_text()):
            for target in group["targets"]:
                host, port = target.rsplit(":", 1)
                assert host in SERVICES, f"{path.name}: {host} is not a compose service"
                assert int(port) == THIRD_PARTY_PORTS.get(host, UWSGI_PORT)
                seen.add(host)
    assert {"frontend", "thoughts-backend", "users-backend", "prometheus", "alertmanager"} <= seen


def test_observability_mounts_the_files_the_native_run_uses():
    procfile = (ROOT / "Procfile").read_text()
    prometheus = set(bind_mounts(SERVICES["prometheus"]))
    assert {"metrics/prometheus/prometheus.yml", "metrics/prometheus/rules"} <= prometheus
    assert "--config.file=metrics/prometheus/prometheus.yml" in procfile
    alertmanager = set(bind_mounts(SERVICES["alertmanager"]))
    assert {"metrics/alertmanager/alertmanager.yml", "metrics/alertmanager/render.sh"} <= alertmanager
    assert "metrics/alertmanager/render.sh" in procfile
    grafana = set(bind_mounts(SERVICES["grafana"]))
    assert {
        "metrics/grafana/dashboards",
        "metrics/grafana/provisioning/datasources",
        "metrics/grafana/provisioning/dashboards",
    } <= grafana
    assert "metrics/alert_receiver/receiver.py" in set(bind_mounts(SERVICES["alert-receiver"]))


def test_the_databases_are_created_by_the_script_kubernetes_uses():
    infra = yaml.safe_load((ROOT / "kubernetes/base/infra/kustomization.yaml").read_text())
    (generator,) = [g for g in infra["configMapGenerator"] if g["name"] == "postgres-init"]
    scripts = {f"kubernetes/base/infra/{name}" for name in generator["files"]}
    assert scripts == {"kubernetes/base/infra/init-databases.sql"}
    assert scripts <= set(bind_mounts(SERVICES["db"]))


def test_start_up_order():
    for backend, migration in [("users-backend", "users-migrate"), ("thoughts-backend", "thoughts-migrate")]:
        assert SERVICES[backend]["depends_on"][migration]["condition"] == "service_completed_successfully"
        assert SERVICES[migration]["depends_on"]["db"]["condition"] == "service_healthy"
    assert SERVICES["frontend"]["depends_on"]["users-backend"]["condition"] == "service_healthy"
    assert "healthcheck" in SERVICES["db"]


def test_test_services_run_against_the_compose_database():
    for name in ("users-test", "thoughts-test", "frontend-test"):
        service = SERVICES[name]
        assert service["build"]["target"] == "test"
        assert service["profiles"] == ["test"]
        assert environment(service)["CI"] == "true"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"


def test_third_party_images_are_pinned():
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image} is not pinned"


@pytest.mark.parametrize(
    "name",
    [n for n, s in SERVICES.items() if s.get("build", {}).get("dockerfile") == "common/docker/service.Dockerfile"],
)
def test_service_images_name_their_package(name):
    args = SERVICES[name]["build"].get("args", {})
    assert (ROOT / args.get("SERVICE", "<missing SERVICE build arg>") / "pyproject.toml").is_file()
    for package in args.get("TEST_PACKAGES", "").split():
        assert (ROOT / package / "pyproject.toml").is_file()


# --- third-party image versions: .env, compose, the offline stand-ins, Kubernetes -----------

OFFLINE = yaml.safe_load((ROOT / "docker-compose.offline.yaml").read_text())["services"]
VERSIONS = versions()


def rendered_image(service):
    """The service's image with the variables of .env filled in."""
    return fill(service["image"])


def test_third_party_images_take_their_version_from_env():
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        variables = re.findall(r"\$\{(\w+)\}", service["image"])
        assert variables and set(variables) <= set(VERSIONS), f"{name}: {service['image']} names no version of .env"


# Third-party images that run only under a profile an offline host leaves off, with the reason.
PROFILE_ONLY = {"jaeger": ("tracing", "the trace viewer, opt-in; Jaeger has no Debian package")}


def test_every_third_party_image_has_an_offline_stand_in_at_the_same_version():
    for name, (profile, _reason) in PROFILE_ONLY.items():
        assert SERVICES[name]["profiles"] == [profile], name
    third_party = {name for name, service in SERVICES.items() if "build" not in service} - set(PROFILE_ONLY)
    assert set(OFFLINE) == third_party
    for name in third_party - {"grafana"}:
        stand_in = OFFLINE[name]
        assert stand_in["build"]["dockerfile"] == "compose/offline/Dockerfile"
        assert stand_in["pull_policy"] == "never"
        official_variables = set(re.findall(r"\$\{(\w+)\}", SERVICES[name]["image"]))
        assert set(re.findall(r"\$\{(\w+)\}", stand_in["image"])) == official_variables, name
        for variable in official_variables:
            assert stand_in["build"]["args"][variable] == f"${{{variable}}}"
    # Grafana has no Debian package: offline it is only started when asked for.
    assert OFFLINE["grafana"] == {"profiles": ["grafana"]}


def kubernetes_images():
    found = set()
    for path in (ROOT / "kubernetes" / "base").rglob("*.yaml"):
        found |= set(re.findall(r"^\s*image:\s*(\S+)", path.read_text(), re.MULTILINE))
    return found


def test_kubernetes_runs_the_third_party_images_compose_pins():
    pinned = {rendered_image(service) for service in SERVICES.values() if "build" not in service}
    third_party_in_kubernetes = {image for image in kubernetes_images() if not image.startswith("local/")}
    assert third_party_in_kubernetes <= pinned, third_party_in_kubernetes - pinned
    assert {image.split(":")[0] for image in third_party_in_kubernetes} == {
        "postgres",
        "prom/prometheus",
        "prom/alertmanager",
        "grafana/grafana",
        "mthenw/frontail",
    }
