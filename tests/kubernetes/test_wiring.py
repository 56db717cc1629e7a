"""The rendered objects fit together: selectors, Ingresses, references, probes,
scrape annotations, hardening, and the files shared with compose and the native run."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "demo", "staging", "production")
WORKLOADS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}
SERVICES = ("users-backend", "thoughts-backend", "frontend")
HOSTS = {
    "frontend.example.local": "frontend",
    "thoughts.example.local": "thoughts-backend",
    "users.example.local": "users-backend",
    "syslog.example.local": "syslog",
    "prometheus.example.local": "prometheus",
    "grafana.example.local": "grafana",
}
# Secrets the manifests only name; tools/kube-secrets creates them.
OUT_OF_BAND_SECRETS = {"thoughts-secrets", "alertmanager-webhook"}


def of_kind(objects, *kinds):
    return [o for o in objects if o["kind"] in kinds]


def by_name(objects, kind):
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def pod_templates(objects):
    """(workload, pod template) of every workload."""
    return [(o, o["spec"]["template"]) for o in of_kind(objects, *WORKLOADS)]


def containers(template):
    spec = template["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def selects(selector, labels):
    """matchLabels/matchExpressions semantics (a Service's plain selector too)."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        value, op = labels.get(expr["key"]), expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and expr["key"] not in labels:
            return False
        if op == "DoesNotExist" and expr["key"] in labels:
            return False
    return True


def container_ports(template):
    return [p for c in template["spec"]["containers"] for p in c.get("ports", [])]


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request):
    return request.param


@pytest.fixture(scope="module")
def objects(overlays, env):
    return overlays[env]


def test_service_selectors_match_pods_and_ports(objects):
    templates = pod_templates(objects)
    for service in of_kind(objects, "Service"):
        name = service["metadata"]["name"]
        matching = [t for _, t in templates if selects(service["spec"]["selector"], t["metadata"]["labels"])]
        assert matching, f"Service {name} selects no pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for template in matching:
                ports = container_ports(template)
                assert any(
                    (p.get("name") == target or p["containerPort"] == target)
                    and p.get("protocol", "TCP") == port.get("protocol", "TCP")
                    for p in ports
                ), f"Service {name} port {target} is no container port of its pods"


def test_workload_selectors_match_their_templates(objects):
    for workload, template in pod_templates(objects):
        if workload["kind"] == "Job":
            continue
        assert selects(workload["spec"]["selector"], template["metadata"]["labels"]), workload["metadata"]["name"]


def test_ingress_backends_exist(objects):
    services = by_name(objects, "Service")
    hosts = {}
    for ingress in of_kind(objects, "Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services, f"Ingress {rule['host']}: no Service {backend['name']}"
                port = backend["port"]
                assert any(
                    p.get("name") == port.get("name") or p["port"] == port.get("number")
                    for p in services[backend["name"]]["spec"]["ports"]
                ), f"Ingress {rule['host']}: Service {backend['name']} has no port {port}"
                hosts[rule["host"]] = backend["name"]
    assert hosts == HOSTS


def test_references_are_produced_in_the_same_layer(layers, env):
    """A pod's ConfigMaps come from its own Flux layer; Secrets are the documented out-of-band ones."""
    script = (ROOT / "tools/kube-secrets").read_text()
    secret_keys = {
        "thoughts-secrets": set(re.findall(r"--from-file=([\w.-]+)=", script)),
        "alertmanager-webhook": set(re.findall(r"--from-literal=([\w.-]+)=", script)),
    }
    for layer in ("infra", "apps"):
        objects = layers[(env, layer)]
        config_maps = by_name(objects, "ConfigMap")
        accounts = set(by_name(objects, "ServiceAccount")) | {"default"}
        for workload, template in pod_templates(objects):
            where = f"{layer}: {workload['kind']}/{workload['metadata']['name']}"
            spec = template["spec"]
            assert spec.get("serviceAccountName", "default") in accounts, where
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for volume in volumes.values():
                if "configMap" in volume:
                    cm = config_maps.get(volume["configMap"]["name"])
                    assert cm, f"{where}: no ConfigMap {volume['configMap']['name']}"
                    for item in volume["configMap"].get("items", []):
                        assert item["key"] in cm["data"], where
                if "secret" in volume:
                    name = volume["secret"]["secretName"]
                    assert name in OUT_OF_BAND_SECRETS, f"{where}: Secret {name} is not documented"
                    for item in volume["secret"].get("items", []):
                        assert item["key"] in secret_keys[name], f"{where}: tools/kube-secrets makes no {item['key']}"
                if "persistentVolumeClaim" in volume:
                    pytest.fail(f"{where}: PVCs come from volumeClaimTemplates")
            claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
            for container in containers(template):
                for mount in container.get("volumeMounts", []):
                    assert mount["name"] in volumes or mount["name"] in claims, f"{where}: volume {mount['name']}"
                for source in container.get("envFrom", []):
                    assert source["configMapRef"]["name"] in config_maps, where
                for var in container.get("env", []):
                    ref = var.get("valueFrom", {})
                    if "secretKeyRef" in ref:
                        secret = ref["secretKeyRef"]
                        assert secret["name"] in OUT_OF_BAND_SECRETS, where
                        assert secret["key"] in secret_keys[secret["name"]], where
                    if "configMapKeyRef" in ref:
                        assert ref["configMapKeyRef"]["name"] in config_maps, where


def test_secrets_are_never_committed(overlays):
    for objects in overlays.values():
        assert not of_kind(objects, "Secret")


def probe_contract():
    """The paths each service answers, from its source."""
    health = (ROOT / "common/src/thoughts_common/health.py").read_text()
    service = (ROOT / "common/src/thoughts_common/service.py").read_text()
    assert "health.init_app(app" in service and "metrics.init_app(app)" in service
    metrics = (ROOT / "common/src/thoughts_common/metrics.py").read_text()
    backend = set(re.findall(r'@app\.get\("(/[\w/]*)"\)', health))
    if '"/metrics"' in metrics or "'/metrics'" in metrics or "/metrics" in metrics:
        backend.add("/metrics")
    frontend_urls = (ROOT / "frontend/src/thoughts/urls.py").read_text()
    project_urls = (ROOT / "frontend/src/mythoughts/urls.py").read_text()
    frontend = {"/" + p for p in re.findall(r'path\("([\w/-]+)"', frontend_urls + project_urls)}
    return {"users-backend": backend, "thoughts-backend": backend, "frontend": frontend}


def test_probe_paths_exist_in_the_services_contract(objects):
    contract = probe_contract()
    assert {"/healthz", "/readyz", "/metrics"} <= contract["users-backend"]
    assert {"/healthz", "/metrics"} <= contract["frontend"]
    deployments = by_name(objects, "Deployment")
    for name in SERVICES:
        template = deployments[name]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        paths = {container[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe")}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        expected_ready = "/readyz" if "/readyz" in contract[name] else "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == expected_ready
        assert paths <= contract[name], name
        assert template["metadata"]["annotations"]["prometheus.io/path"] in contract[name]


def test_scrape_annotations_name_the_metrics_port(objects):
    rules = (ROOT / "metrics/prometheus/rules/alerts.yml").read_text()
    required_jobs = set(re.findall(r'absent\(up\{job="(\w+)"\}\)', rules))
    assert required_jobs == {"frontend", "thoughts_backend", "users_backend"}
    jobs = {}
    for workload, template in pod_templates(objects):
        annotations = template["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") != "true":
            continue
        port = int(annotations["prometheus.io/port"])
        assert port in {p["containerPort"] for p in container_ports(template)}, workload["metadata"]["name"]
        jobs[annotations["prometheus.io/job"]] = workload["metadata"]["name"]
    assert set(jobs) == {"frontend", "thoughts_backend", "users_backend", "prometheus", "alertmanager"}
    assert required_jobs <= set(jobs)


def test_prometheus_reads_the_mounted_config_and_rules(objects):
    config = yaml.safe_load((ROOT / "metrics/prometheus/prometheus.kubernetes.yml").read_text())
    template = by_name(objects, "Deployment")["prometheus"]["spec"]["template"]
    (container,) = template["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    args = dict(a.split("=", 1) for a in container["args"])
    assert args["--config.file"] == mounts["config"] + "/prometheus.yml"
    assert config["rule_files"] == [mounts["rules"] + "/*.yml"]
    (sd,) = config["scrape_configs"][0]["kubernetes_sd_configs"]
    assert sd["role"] == "pod" and sd["namespaces"] == {"own_namespace": True}
    (alertmanagers,) = config["alerting"]["alertmanagers"]
    services = by_name(objects, "Service")
    host, port = alertmanagers["static_configs"][0]["targets"][0].split(":")
    assert int(port) in {p["port"] for p in services[host]["spec"]["ports"]}
    role = by_name(objects, "Role")["prometheus"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]


def test_every_container_is_hardened(objects):
    memory_limit = re.search(
        r"uwsgi:memory_limit_bytes\s+expr: vector\((\d+)\)",
        (ROOT / "metrics/prometheus/rules/recording.yml").read_text(),
    )
    for workload, template in pod_templates(objects):
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = template["spec"].get("securityContext", {})
        assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}, name
        for container in containers(template):
            where = f"{name} {container['name']}"
            sc = container.get("securityContext", {})
            assert sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
            assert sc.get("runAsUser", pod.get("runAsUser", 1)) != 0, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("capabilities", {}).get("add"), where
            assert not sc.get("privileged"), where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container.get("resources", {}).get(kind, {})), where
            if workload["kind"] != "Job":
                assert "livenessProbe" in container and "readinessProbe" in container, where
            assert ":" in container["image"] and not container["image"].endswith(":latest"), where
        if workload["metadata"]["name"] in SERVICES:
            (container,) = template["spec"]["containers"]
            assert container["resources"]["limits"]["memory"] == "512Mi"
            assert int(memory_limit.group(1)) == 512 * 1024 * 1024
        token = template["spec"].get("automountServiceAccountToken")
        assert token is (workload["metadata"]["name"] == "prometheus"), name


def test_pod_disruption_budgets_cover_the_services(objects):
    deployments = by_name(objects, "Deployment")
    pdbs = of_kind(objects, "PodDisruptionBudget")
    for name in SERVICES:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        (pdb,) = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert pdb["spec"].get("maxUnavailable") == 1, name


def test_migration_jobs_use_the_services_settings(objects):
    jobs = by_name(objects, "Job")
    deployments = by_name(objects, "Deployment")
    config_maps = by_name(objects, "ConfigMap")
    for job, service in (("users-migrate", "users-backend"), ("thoughts-migrate", "thoughts-backend")):
        (migrate,) = jobs[job]["spec"]["template"]["spec"]["containers"]
        (server,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert migrate["image"] == server["image"]
        env = {v["name"]: v["value"] for v in migrate["env"]}
        settings = config_maps[server["envFrom"][0]["configMapRef"]["name"]]["data"]
        for name in ("DATABASE_URL", "DATABASE_PASSWORD_FILE", "SYSLOG_HOST", "SYSLOG_PORT"):
            assert env[name] == settings[name], (job, name)
        assert " migrate" in " ".join(migrate["command"])
        assert jobs[job]["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/force"] == "enabled"


def read_env(path):
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_settings_follow_compose():
    """Kubernetes' settings are compose's, but for the hosts Django accepts."""
    for service, compose in (
        ("users-backend", "users_backend"),
        ("thoughts-backend", "thoughts_backend"),
        ("frontend", "frontend"),
    ):
        ours = read_env(ROOT / f"kubernetes/base/apps/env/{service}.env")
        theirs = read_env(ROOT / f"compose/env/{compose}.env")
        theirs.pop("DJANGO_ALLOWED_HOSTS", None)
        ours.pop("DJANGO_ALLOWED_HOSTS", None)
        assert ours == theirs, service


def test_metrics_come_from_the_same_files(objects):
    config_maps = {re.sub(r"-[a-z0-9]{10}$", "", n): cm for n, cm in by_name(objects, "ConfigMap").items()}
    expected = {
        "prometheus-config": {"prometheus.yml": "metrics/prometheus/prometheus.kubernetes.yml"},
        "prometheus-rules": {
            f.name: f"metrics/prometheus/rules/{f.name}" for f in ROOT.glob("metrics/prometheus/rules/*.yml")
        },
        "alertmanager-config": {
            "alertmanager.yml": "metrics/alertmanager/alertmanager.yml",
            "render.sh": "metrics/alertmanager/render.sh",
        },
        "grafana-datasources": {"prometheus.yml": "metrics/grafana/provisioning/datasources/prometheus.yml"},
        "grafana-dashboard-provider": {"thoughts.yml": "metrics/grafana/provisioning/dashboards/thoughts.yml"},
        "grafana-dashboards": {
            f.name: f"metrics/grafana/dashboards/{f.name}" for f in ROOT.glob("metrics/grafana/dashboards/*.json")
        },
        "postgres-init": {"init-databases.sql": "kubernetes/base/infra/init-databases.sql"},
    }
    for name, files in expected.items():
        assert config_maps[name]["data"] == {k: (ROOT / v).read_text() for k, v in files.items()}, name
    datasource = yaml.safe_load((ROOT / "metrics/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert 9090 in {p["port"] for p in by_name(objects, "Service")["prometheus"]["spec"]["ports"]}
    provider = yaml.safe_load((ROOT / "metrics/grafana/provisioning/dashboards/thoughts.yml").read_text())
    template = by_name(objects, "Deployment")["grafana"]["spec"]["template"]
    mounts = {m["name"]: m["mountPath"] for m in template["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["dashboards"] == provider["providers"][0]["options"]["path"]


BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity_bytes(quantity):
    number, suffix = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", quantity).groups()
    return int(number) * BINARY_SUFFIXES.get(suffix, 1)


def test_the_memory_saturation_rule_measures_against_the_services_limit(objects):
    """uwsgi:memory_limit_bytes (recording.yml) is the memory limit of every service container."""
    rules = yaml.safe_load((ROOT / "metrics/prometheus/rules/recording.yml").read_text())
    (recorded,) = [
        r["expr"] for group in rules["groups"] for r in group["rules"] if r.get("record") == "uwsgi:memory_limit_bytes"
    ]
    recorded_bytes = int(re.fullmatch(r"vector\((\d+)\)", recorded.strip()).group(1))
    deployments = by_name(objects, "Deployment")
    limits = {
        (name, container["name"]): quantity_bytes(container["resources"]["limits"]["memory"])
        for name in SERVICES
        for container in deployments[name]["spec"]["template"]["spec"]["containers"]
    }
    assert limits and set(limits.values()) == {recorded_bytes}, limits
