"""Every container of every rendered overlay, run on the container engine with its pod's settings.

For each overlay (``kubectl kustomize kubernetes/overlays/<env>``) every
container of every Deployment, StatefulSet and Job runs on the engine as the
pod's securityContext, volumes, environment, command and resources say, as far
as the engine can express them, on a user network of the overlay's own where
each pod answers to the names of the Services that select it. The order is
Flux's: the long-running pods of the infra layer (PostgreSQL, syslog) until
their readiness probes pass, the migration Jobs until they exit 0, then the
apps layer until every readiness probe passes. Each container's PID 1 is then
checked for the uid, gid, groups, capabilities, no_new_privs and seccomp mode
its pod asks for, and /tmp and /var/tmp for being writable only where a
volume is mounted. At the end every container is stopped with its pod's grace
period, and everything of the overlay is removed from the engine and the disk.

SETTINGS names every key of the workloads' specs with how the test emulates
it or why the engine cannot express it; KINDS does the same for the other
objects. Both are printed and asserted to cover the rendered manifests
exactly, so a new setting fails until it is emulated or named here. Images
are the local stand-ins docker-compose.yaml and docker-compose.offline.yaml
build (versions from .env); NOT_RUN names the images that have none.

Volumes are host folders: emptyDir 0777 (root:fsGroup 2777 with an fsGroup),
a volumeClaimTemplate root:fsGroup 2775, a Secret's listed items with test
values (a fresh RSA key pair, random passwords), a ConfigMap's rendered data.
With --read-only podman mounts its own writable tmpfs on /tmp, /var/tmp and
/run (read_only_tmpfs, which the Docker API cannot turn off): where no volume
of the pod is mounted there, the test mounts a read-only copy of the image's
folder instead, so a missing emptyDir fails here as it would in Kubernetes.
"""

import contextlib
import ipaddress
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests
import yaml
from compose_project import ROOT, Phase, inspect, run, write_secrets
from image_versions import fill
from rendered_manifests import ENVIRONMENTS, kustomize

LABEL = "thoughts.test.pod-settings"
READY_DEADLINE = 240  # seconds for every container of a layer to pass its probes
JOB_DEADLINE = 300  # seconds for a Job at most (its activeDeadlineSeconds when shorter)
EXEC_OVERHEAD = 5  # seconds a `docker exec` round trip may add to an exec probe's timeoutSeconds
POLL = 1.0
MAX_RESTARTS = 2  # of a container with restartPolicy Always before it is ready (the kubelet would go on)
# What podman mounts as a writable tmpfs in a --read-only container (not settable through the Docker API).
ENGINE_TMPFS = ("/tmp", "/var/tmp", "/run")
# Folders of every image that must be writable exactly where the pod mounts a writable volume.
WRITE_CHECKED = ("/tmp", "/var/tmp")

EMULATED, PARTLY, NOT_EXPRESSIBLE = "emulated", "partly", "NOT EXPRESSIBLE"

_PROBE_FIELDS = {
    "httpGet.path": (EMULATED, "GET from the host through the port published on 127.0.0.1; 200 expected"),
    "httpGet.port": (EMULATED, "a container port (by number or name), published as 127.0.0.1::<port>"),
    "httpGet.httpHeaders[].name": (EMULATED, "sent as given; without a Host header the kubelet's Host <pod IP>:<port>"),
    "httpGet.httpHeaders[].value": (EMULATED, "sent as given"),
    "exec.command": (EMULATED, "docker exec <container> <command> (the container's user), exit code 0 expected"),
    "timeoutSeconds": (
        EMULATED,
        f"per attempt (default 1 s); an exec probe gets {EXEC_OVERHEAD} s more for docker exec",
    ),
    "periodSeconds": (NOT_EXPRESSIBLE, f"kubelet timing: the test polls every {POLL:g} s up to {READY_DEADLINE} s"),
    "initialDelaySeconds": (NOT_EXPRESSIBLE, "kubelet timing: the test polls from the container's start"),
    "failureThreshold": (NOT_EXPRESSIBLE, f"kubelet timing: the probe must pass within {READY_DEADLINE} s"),
}
_PROBES = {
    "startupProbe": "polled until it passes, before the readiness probe",
    "readinessProbe": "polled until it passes: what this test is for",
    "livenessProbe": "must pass once the readiness probe has passed",
}

# Every key of a workload's spec ("workload." the spec, "pod." the pod template's spec,
# "pod.metadata." its metadata, "container." each container): how it is emulated, or why not.
SETTINGS = {
    "workload.replicas": (
        NOT_EXPRESSIBLE,
        "one container per pod template: staging's and production's 2-3 replicas are copies of it",
    ),
    "workload.selector.matchLabels": (NOT_EXPRESSIBLE, "no controller owns the containers"),
    "workload.strategy.type": (NOT_EXPRESSIBLE, "no rollouts: each pod template starts once"),
    "workload.strategy.rollingUpdate.maxSurge": (NOT_EXPRESSIBLE, "no rollouts: each pod template starts once"),
    "workload.strategy.rollingUpdate.maxUnavailable": (NOT_EXPRESSIBLE, "no rollouts: each pod template starts once"),
    "workload.revisionHistoryLimit": (NOT_EXPRESSIBLE, "no rollouts, no ReplicaSets to keep"),
    "workload.serviceName": (NOT_EXPRESSIBLE, "no per-pod DNS names (db-0.db); the Service name is an alias"),
    "workload.backoffLimit": (
        EMULATED,
        "with restartPolicy OnFailure a failed Job container is started again, at most this often; each retry printed",
    ),
    "workload.activeDeadlineSeconds": (EMULATED, f"docker wait bounded by it (at most {JOB_DEADLINE} s here)"),
    "workload.volumeClaimTemplates[].metadata.name": (
        EMULATED,
        "a fresh host folder root:fsGroup mode 2775, mounted where the volume of that name is",
    ),
    "workload.volumeClaimTemplates[].spec.accessModes": (EMULATED, "ReadWriteOnce: one container mounts the folder"),
    "workload.volumeClaimTemplates[].spec.resources.requests.storage": (
        NOT_EXPRESSIBLE,
        "no quota on a host folder",
    ),
    "pod.metadata.labels": (
        PARTLY,
        "a pod answers to the names of the Services that select it; NetworkPolicies selecting it: see KINDS",
    ),
    "pod.metadata.annotations": (
        NOT_EXPRESSIBLE,
        "prometheus.io/* feed kubernetes_sd_configs, which needs the API server",
    ),
    "pod.automountServiceAccountToken": (
        PARTLY,
        "false: the engine mounts no token. true (Prometheus): service account token / API server not expressible",
    ),
    "pod.serviceAccountName": (NOT_EXPRESSIBLE, "service account token / API server: none here"),
    "pod.restartPolicy": (
        PARTLY,
        f"a stopped container is started again (Always: at most {MAX_RESTARTS} times before it is ready; "
        "OnFailure: backoffLimit times), each restart printed; no back-off delays; Always after ready: must not stop",
    ),
    "pod.terminationGracePeriodSeconds": (
        EMULATED,
        "docker stop --timeout <it> (default 30) at the end; who needed SIGKILL is asserted against NEEDS_SIGKILL",
    ),
    "pod.securityContext.runAsUser": (EMULATED, "docker --user uid:gid; PID 1's uids checked"),
    "pod.securityContext.runAsGroup": (EMULATED, "docker --user uid:gid; PID 1's gids checked"),
    "pod.securityContext.fsGroup": (
        EMULATED,
        "docker --group-add; every volume folder root:fsGroup with setgid; PID 1's groups checked",
    ),
    "pod.securityContext.runAsNonRoot": (
        EMULATED,
        "as the kubelet: the uid (runAsUser, else the image's USER) must be numeric and not 0; PID 1's uid checked",
    ),
    "pod.securityContext.seccompProfile.type": (
        EMULATED,
        "RuntimeDefault: the engine's default profile; PID 1's Seccomp mode 2 (filter) checked",
    ),
    "pod.volumes[].name": (EMULATED, "one host folder per volume of the pod, shared by its containers"),
    "pod.volumes[].emptyDir": (EMULATED, "a fresh host folder 0777 (root:fsGroup 2777 with an fsGroup)"),
    "pod.volumes[].emptyDir.sizeLimit": (
        NOT_EXPRESSIBLE,
        "a host folder has no size limit (podman's --tmpfs options are not applied here)",
    ),
    "pod.volumes[].configMap.name": (EMULATED, "a read-only folder with the data of the rendered ConfigMap"),
    "pod.volumes[].secret.secretName": (EMULATED, "a read-only folder of test values (no Secret is rendered)"),
    "pod.volumes[].secret.items[].key": (EMULATED, "only the listed keys are written"),
    "pod.volumes[].secret.items[].path": (EMULATED, "the file name of the key"),
    "container.name": (EMULATED, "the container is named <overlay run>-<pod>-<container>"),
    "container.image": (EMULATED, "the local stand-in compose builds (stand_ins()); NOT_RUN names the others"),
    "container.imagePullPolicy": (NOT_EXPRESSIBLE, "nothing is pulled here: the stand-ins are local images"),
    "container.command": (EMULATED, "docker --entrypoint <command[0]>, then the rest and args as the command"),
    "container.args": (EMULATED, "the container's command (CMD); the image's entrypoint stays"),
    "container.env[].name": (EMULATED, "docker --env, after envFrom"),
    "container.env[].value": (EMULATED, "docker --env, with $(VAR) references expanded as the kubelet does"),
    "container.env[].valueFrom.fieldRef.fieldPath": (
        EMULATED,
        "status.podIP: the pod's address, given to its first container with docker --ip on the overlay's network",
    ),
    "container.env[].valueFrom.secretKeyRef.name": (EMULATED, "docker --env with the test value of the secret"),
    "container.env[].valueFrom.secretKeyRef.key": (EMULATED, "docker --env with the test value of the key"),
    "container.envFrom[].configMapRef.name": (EMULATED, "docker --env for each item of the rendered ConfigMap"),
    "container.ports[].containerPort": (
        EMULATED,
        "reachable on the overlay's network; TCP ports published on 127.0.0.1 for the probes",
    ),
    "container.ports[].name": (EMULATED, "resolves the probes' and Services' named ports"),
    "container.ports[].protocol": (EMULATED, "UDP ports are only reached on the overlay's network, not published"),
    "container.resources.limits.cpu": (EMULATED, "docker --cpus"),
    "container.resources.limits.memory": (EMULATED, "docker --memory"),
    "container.resources.requests.cpu": (EMULATED, "docker --cpu-shares <millicores * 1024 / 1000>, as the kubelet"),
    "container.resources.requests.memory": (NOT_EXPRESSIBLE, "only the scheduler reads it; no scheduler here"),
    "container.securityContext.allowPrivilegeEscalation": (
        EMULATED,
        "false: docker --security-opt no-new-privileges; PID 1's NoNewPrivs checked",
    ),
    "container.securityContext.capabilities.drop": (
        EMULATED,
        "docker --cap-drop; with ALL PID 1's effective, permitted and bounding sets checked empty",
    ),
    "container.securityContext.readOnlyRootFilesystem": (
        EMULATED,
        "docker --read-only, and read-only copies of the image's /tmp, /var/tmp, /run where no volume is "
        "mounted (podman's own writable tmpfs there cannot be turned off through the Docker API)",
    ),
    "container.volumeMounts[].name": (EMULATED, "the pod volume's host folder"),
    "container.volumeMounts[].mountPath": (EMULATED, "docker --volume <folder>:<mountPath>"),
    "container.volumeMounts[].readOnly": (EMULATED, ":ro (Secrets and ConfigMaps are always read-only)"),
    **{
        f"container.{probe}.{field}": (verdict, f"{when}; {how}" if field == "httpGet.path" else how)
        for probe, when in _PROBES.items()
        for field, (verdict, how) in _PROBE_FIELDS.items()
    },
}

# The other kinds of object in the overlays.
KINDS = {
    "Deployment": (EMULATED, "its pod template, once"),
    "StatefulSet": (EMULATED, "its pod template, once, with its volumeClaimTemplates"),
    "Job": (EMULATED, "its pod template, run to completion after the infra layer's pods are ready"),
    "ConfigMap": (EMULATED, "files of configMap volumes, variables of envFrom"),
    "Service": (
        EMULATED,
        "network aliases on the pods it selects; its ports must equal their target ports (asserted)",
    ),
    "Namespace": (
        PARTLY,
        "a user network per overlay run; the restricted Pod Security admission is not run, "
        "the settings it demands are emulated per pod",
    ),
    "NetworkPolicy": (NOT_EXPRESSIBLE, "one flat user network: every container reaches every other"),
    "Ingress": (NOT_EXPRESSIBLE, "no ingress controller; the probes reach ports published on 127.0.0.1"),
    "PodDisruptionBudget": (NOT_EXPRESSIBLE, "no evictions, no drains"),
    "ServiceAccount": (NOT_EXPRESSIBLE, "service account token / API server: none here"),
    "Role": (NOT_EXPRESSIBLE, "service account token / API server: none here"),
    "RoleBinding": (NOT_EXPRESSIBLE, "service account token / API server: none here"),
}

# Images no stand-in exists for: their containers are not run, and said so.
NOT_RUN = {
    "grafana/grafana": "no Debian package and no registry here: docker-compose.offline.yaml builds no stand-in",
}

# What a stand-in cannot run of a rendered ConfigMap ("<ConfigMap generator name>/<key>": setting, why and
# what runs instead). Each is asserted to still hold: the stand-in rejects the rendered file.
STAND_IN_GAPS = {
    "prometheus-config/prometheus.yml": (
        "kubernetes_sd_configs",
        "Debian builds Prometheus without Kubernetes service discovery, so the stand-in of prom/prometheus rejects "
        "the field; the test drops it from each scrape config (no targets: as without an API server)",
    ),
}

# Containers that do not stop on SIGTERM within their pod's grace period (the kubelet then kills them).
NEEDS_SIGKILL = {}

WORKLOAD_KINDS = ("StatefulSet", "Deployment", "Job")
OPAQUE = {
    "workload.template.metadata.labels",
    "workload.template.metadata.annotations",
    "workload.selector.matchLabels",
}
ABBREVIATIONS = (
    ("workload.template.spec.containers[].", "container."),
    ("workload.template.spec.", "pod."),
    ("workload.template.metadata.", "pod.metadata."),
)


def setting_keys(workload):
    """The keys of a workload's spec, abbreviated as in SETTINGS (a list of scalars is one key)."""
    keys = set()

    def walk(node, path):
        if path in OPAQUE or not isinstance(node, dict | list) or not node:
            keys.add(path)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif all(not isinstance(item, dict | list) for item in node):
            keys.add(path)
        else:
            for item in node:
                walk(item, f"{path}[]")

    walk(workload["spec"], "workload")
    abbreviated = set()
    for key in keys:
        for long, short in ABBREVIATIONS:
            if key.startswith(long):
                key = short + key[len(long) :]
                break
        abbreviated.add(key)
    return abbreviated


# --- images: the Kubernetes name -> the local stand-in compose builds --------------------------


def _compose_services(name):
    return yaml.safe_load((ROOT / name).read_text())["services"]


def stand_ins():
    """(third-party image -> stand-in, our image's name -> compose's image), from compose's files and .env."""
    official, offline = _compose_services("docker-compose.yaml"), _compose_services("docker-compose.offline.yaml")
    third_party, ours = {}, {}
    for name, service in official.items():
        image = fill(service["image"])
        if "build" in service:
            if ":" not in image.rsplit("/", 1)[-1]:
                ours[image.rsplit("/", 1)[-1]] = f"{image}:latest"
        elif "image" in offline.get(name, {}):
            third_party[image] = fill(offline[name]["image"])
    return third_party, ours


def image_repository(image):
    last = image.rsplit("/", 1)[-1]
    return image[: len(image) - len(last.split(":", 1)[1]) - 1] if ":" in last else image


def stand_in_for(image, third_party, ours):
    """The local image to run for a Kubernetes image, or None for one of NOT_RUN."""
    if image in third_party:
        return third_party[image]
    repository = image_repository(image)
    if repository.startswith(("local/", "registry.example.com/thoughts/")) and repository.rsplit("/")[-1] in ours:
        return ours[repository.rsplit("/")[-1]]
    if repository in NOT_RUN:
        return None
    pytest.fail(f"no stand-in for {image}: not built by compose (third-party ones: {sorted(third_party)})")


def gap_of(config_map, key):
    """The STAND_IN_GAPS entry for a key of a rendered (hash-suffixed) ConfigMap, or None."""
    for where, gap in STAND_IN_GAPS.items():
        base, file = where.split("/", 1)
        if file == key and re.fullmatch(rf"{re.escape(base)}-[a-z0-9]{{10}}", config_map):
            return where, gap
    return None


def without_gap(text, field):
    """A Prometheus configuration without ``field`` in its scrape configs."""
    config = yaml.safe_load(text)
    for scrape in config.get("scrape_configs", []):
        scrape.pop(field, None)
    return yaml.safe_dump(config, sort_keys=False)


# --- rendering -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered():
    """{env: (every object of the overlay, the names of the infra layer's workloads)}."""
    found = {}
    for env in ENVIRONMENTS:
        whole = kustomize(ROOT / "kubernetes" / "overlays" / env)
        infra = kustomize(ROOT / "kubernetes" / "overlays" / env / "infra")
        found[env] = (whole, {(o["kind"], o["metadata"]["name"]) for o in infra if o["kind"] in WORKLOAD_KINDS})
    return found


def workloads(objects):
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def test_every_setting_of_the_manifests_is_emulated_or_named(rendered):
    keys, kinds = set(), set()
    for objects, _ in rendered.values():
        kinds |= {o["kind"] for o in objects}
        for workload in workloads(objects):
            keys |= setting_keys(workload)
    width = max(map(len, SETTINGS | KINDS))
    print("\nKubernetes settings on the container engine:")
    for key, (verdict, how) in sorted(SETTINGS.items()) + sorted(KINDS.items()):
        print(f"  {key:<{width}}  {verdict:<15}  {how}")
    for where, (field, why) in STAND_IN_GAPS.items():
        print(f"stand-in gap: {where}: {field}: {why}")
    for image, why in NOT_RUN.items():
        print(f"not run: {image}: {why}")
    assert not keys - set(SETTINGS), f"settings neither emulated nor named in SETTINGS: {sorted(keys - set(SETTINGS))}"
    # The probe fields are named once for the three kinds of probe: each must occur in one of them.
    probe_keys = {f"container.{probe}.{field}" for probe in _PROBES for field in _PROBE_FIELDS}
    stale = set(SETTINGS) - keys - probe_keys
    stale |= {field for field in _PROBE_FIELDS if not any(f"container.{probe}.{field}" in keys for probe in _PROBES)}
    assert not stale, f"SETTINGS names settings no manifest has: {sorted(stale)}"
    assert kinds == set(KINDS), f"kinds not in KINDS: {sorted(kinds - set(KINDS))}; stale: {sorted(set(KINDS) - kinds)}"


def test_only_the_images_of_not_run_have_no_stand_in(rendered):
    third_party, ours = stand_ins()
    assert third_party and ours
    missing = set()
    for objects, _ in rendered.values():
        for workload in workloads(objects):
            for container in workload["spec"]["template"]["spec"]["containers"]:
                if stand_in_for(container["image"], third_party, ours) is None:
                    missing.add(image_repository(container["image"]))
    assert missing == set(NOT_RUN), f"images without a stand-in: {sorted(missing)}; NOT_RUN: {sorted(NOT_RUN)}"
    official, offline = _compose_services("docker-compose.yaml"), _compose_services("docker-compose.offline.yaml")
    for repository in NOT_RUN:  # compose has it, and offline no stand-in for it
        names = [name for name, s in official.items() if image_repository(s["image"]) == repository]
        assert names and all("image" not in offline.get(name, {}) for name in names), repository


# --- quantities ------------------------------------------------------------------------------------

_MEMORY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def cpus(quantity):
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_bytes(quantity):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(k|M|G|Ki|Mi|Gi)?", str(quantity))
    assert match, f"memory quantity {quantity!r} not understood"
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""])


def expand(text, env):
    """The kubelet's expansion of $(VAR) in env values, command and args ($$ is a literal $)."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", replace, text)


# --- one overlay on the engine -----------------------------------------------------------------


def _status(text):
    """/proc/<pid>/status as {field: value}."""
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


class Pod:
    def __init__(self, workload, objects):
        self.kind = workload["kind"]
        self.name = workload["metadata"]["name"]
        template = workload["spec"]["template"]
        self.labels = template["metadata"].get("labels", {})
        self.spec = template["spec"]
        self.security = self.spec.get("securityContext", {})
        self.claims = [claim["metadata"]["name"] for claim in workload["spec"].get("volumeClaimTemplates", [])]
        self.deadline = min(workload["spec"].get("activeDeadlineSeconds", JOB_DEADLINE), JOB_DEADLINE)
        self.grace = self.spec.get("terminationGracePeriodSeconds", 30)
        self.restart_policy = self.spec.get("restartPolicy", "Always")
        self.backoff_limit = workload["spec"].get("backoffLimit", 6)
        self.containers = self.spec["containers"]
        self.ports = {}  # name or number -> (containerPort, protocol)
        for container in self.containers:
            for port in container.get("ports", []):
                entry = (port["containerPort"], port.get("protocol", "TCP"))
                self.ports[port["containerPort"]] = entry
                if "name" in port:
                    self.ports[port["name"]] = entry
        self.aliases = []
        for service in (o for o in objects if o["kind"] == "Service"):
            selector = service["spec"].get("selector") or {}
            if selector and selector.items() <= self.labels.items():
                self.aliases.append(service["metadata"]["name"])
                for port in service["spec"]["ports"]:
                    target = port.get("targetPort", port["port"])
                    assert target in self.ports, (
                        f"Service {service['metadata']['name']}: no port {target} in {self.name}"
                    )
                    assert self.ports[target][0] == port["port"], (
                        f"Service {service['metadata']['name']} maps {port['port']} to {self.ports[target][0]}: "
                        "network aliases cannot express that"
                    )


# (image, paths) -> (the paths resolved inside the image, its ENGINE_TMPFS folders as tar), once per session.
_RESOLVED = {}


def image_of_volume(pod, volume):
    """The image of the (first) container of the pod that mounts the volume."""
    return next(c["image"] for c in pod.containers if any(m["name"] == volume for m in c.get("volumeMounts", [])))


class OverlayRun:
    """The containers of one overlay on the engine, everything it made removed by ``clean_up``."""

    def __init__(self, env, objects, folder):
        self.env = env
        self.objects = objects
        self.folder = folder
        self.prefix = f"podset-{env}-{uuid.uuid4().hex[:6]}"
        self.network = self.prefix
        self.config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
        secrets = write_secrets(folder / "secret-values")
        self.secret_values = {("thoughts-secrets", path.name): path.read_text() for path in secrets.iterdir()}
        self.secret_values[("alertmanager-webhook", "url")] = "http://alert-receiver.invalid:9095/alerts"
        self.third_party, self.ours = stand_ins()
        self.created = []  # container names, in the order they were created
        self.started = {}  # container name -> (pod, container spec, monotonic start)
        self.volumes = {}  # (pod name, volume name) -> host folder
        self.published = {}  # (pod name, port) -> host port
        self.first = {}  # pod name -> its first container (holds the network namespace)
        self.pod_ips = {}  # pod name -> its address on the overlay's network
        self._free_ips = None
        self.report = []
        self.not_run = []
        self.gaps = {}  # STAND_IN_GAPS entry -> (Kubernetes image, the rendered text) where it was applied

    @contextlib.contextmanager
    def step(self, what):
        began = time.monotonic()
        yield
        self.report.append(f"{time.monotonic() - began:6.1f} s  {what}")

    def docker(self, *args, timeout=120, check=True):
        return run(["docker", *args], timeout=timeout, check=check)

    def secret(self, name, key):
        assert (name, key) in self.secret_values, f"no test value for key {key!r} of Secret {name!r}"
        return self.secret_values[(name, key)]

    # -- volumes

    def prepare_volumes(self, pod):
        fs_group = pod.security.get("fsGroup")
        for volume in pod.spec.get("volumes", []):
            path = self.folder / "volumes" / pod.name / volume["name"]
            path.mkdir(parents=True)
            if "emptyDir" in volume:
                mode = 0o777
            elif "configMap" in volume or "secret" in volume:
                if "configMap" in volume:
                    source, data = volume["configMap"], dict(self.config_maps[volume["configMap"]["name"]])
                    for key in data:
                        gap = gap_of(source["name"], key)
                        if gap:
                            where, (field, _) = gap
                            self.gaps[where] = (image_of_volume(pod, volume["name"]), data[key])
                            data[key] = without_gap(data[key], field)
                else:
                    source = volume["secret"]
                    data = {item["key"]: self.secret(source["secretName"], item["key"]) for item in source["items"]}
                items = source.get("items") or [{"key": key, "path": key} for key in data]
                for item in items:
                    file = path / item["path"]
                    file.write_text(data[item["key"]])
                    file.chmod(0o644)
                    if fs_group is not None:
                        os.chown(file, 0, fs_group)
                mode = 0o755
            else:
                pytest.fail(f"{pod.name}: volume {volume['name']} of a type the test does not emulate: {volume}")
            if fs_group is not None:
                os.chown(path, 0, fs_group)
                mode |= 0o2000
            path.chmod(mode)
            self.volumes[(pod.name, volume["name"])] = path
        for claim in pod.claims:
            path = self.folder / "volumes" / pod.name / claim
            path.mkdir(parents=True)
            os.chown(path, 0, fs_group if fs_group is not None else 0)
            path.chmod(0o2775)
            self.volumes[(pod.name, claim)] = path

    def resolve(self, image, paths):
        """Symlinks resolved inside the image (/var/run -> /run), and the image's ENGINE_TMPFS folders as tar."""
        key = (image, tuple(paths))
        if key not in _RESOLVED:
            helper = f"{self.prefix}-resolve-{len(_RESOLVED)}"
            script = 'for p do readlink -m -- "$p"; done'
            self.docker(
                "create", "--name", helper, "--label", f"{LABEL}={self.prefix}", "--network", "none",
                "--user", "0:0", "--entrypoint", "/bin/sh", image, "-c", script, "sh", *ENGINE_TMPFS, *paths,
            )  # fmt: skip
            try:
                lines = self.docker("start", "--attach", helper).stdout.splitlines()
                assert len(lines) == len(ENGINE_TMPFS) + len(paths), lines
                tars = {}
                for path in ENGINE_TMPFS:
                    copied = subprocess.run(
                        ["docker", "cp", f"{helper}:{path}", "-"], capture_output=True, timeout=60, check=False
                    )
                    assert copied.returncode == 0, copied.stderr.decode()
                    tars[path] = copied.stdout
            finally:
                self.docker("rm", "--force", "--volumes", helper, check=False)
            _RESOLVED[key] = (dict(zip((*ENGINE_TMPFS, *paths), lines, strict=True)), tars)
        return _RESOLVED[key]

    def read_only_stand_ins(self, name, image, mounts):
        """Read-only copies of the image's ENGINE_TMPFS folders where no volume is mounted: (host, path) pairs."""
        resolved, tars = self.resolve(image, sorted(mounts))
        targets = {resolved[path] for path in mounts}
        found = []
        for path in ENGINE_TMPFS:
            inside = resolved[path]
            if any(inside == t or inside.startswith(t.rstrip("/") + "/") for t in targets):
                continue  # a volume of the pod is mounted there (or above): podman adds no tmpfs
            unpacked = self.folder / "read-only" / name / path.strip("/").replace("/", "-")
            unpacked.mkdir(parents=True)
            untar = subprocess.run(
                ["tar", "-x", "--numeric-owner", "-C", str(unpacked)],
                input=tars[path], capture_output=True, timeout=60, check=False,
            )  # fmt: skip
            assert untar.returncode == 0, untar.stderr.decode()
            copy = unpacked / inside.rsplit("/", 1)[-1]
            for target in targets:  # mount points of the volumes below it
                if target.startswith(inside + "/"):
                    (copy / target[len(inside) + 1 :]).mkdir(parents=True, exist_ok=True)
            found.append((copy, inside))
        return found

    # -- containers

    def image_user(self, image):
        return inspect(image)[0]["Config"].get("User") or "0"

    def create(self, pod, index, container):
        name = f"{self.prefix}-{pod.name}-{container['name']}"
        image = stand_in_for(container["image"], self.third_party, self.ours)
        if image is None:
            self.not_run.append((pod.kind, pod.name, container["name"], container["image"]))
            return None
        security = {**pod.security, **container.get("securityContext", {})}
        args = ["create", "--name", name, "--label", f"{LABEL}={self.prefix}"]
        if index == 0 or pod.name not in self.first:
            self.first[pod.name] = name
            args += ["--network", self.network, "--ip", self.pod_ip(pod)]
            for alias in pod.aliases:
                args += ["--network-alias", alias]
            for number, protocol in sorted(set(pod.ports.values())):
                if protocol == "TCP":
                    args += ["--publish", f"127.0.0.1::{number}"]
        else:
            args += ["--network", f"container:{self.first[pod.name]}"]

        user, group = security.get("runAsUser"), security.get("runAsGroup")
        effective_user = str(user) if user is not None else self.image_user(image).split(":")[0]
        if security.get("runAsNonRoot"):
            assert effective_user.isdigit(), f"{name}: image user {effective_user!r} is not numeric: kubelet refuses"
            assert int(effective_user) != 0, f"{name}: runAsNonRoot but it would run as root"
        if user is not None or group is not None:
            args += ["--user", effective_user + (f":{group}" if group is not None else "")]
        if security.get("fsGroup") is not None:
            args += ["--group-add", str(security["fsGroup"])]
        for capability in security.get("capabilities", {}).get("drop", []):
            args += ["--cap-drop", capability]
        for capability in security.get("capabilities", {}).get("add", []):
            args += ["--cap-add", capability]
        if security.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        seccomp = security.get("seccompProfile", {}).get("type", "RuntimeDefault")
        assert seccomp in ("RuntimeDefault", "Unconfined"), f"{name}: seccomp profile {seccomp} not emulated"
        if seccomp == "Unconfined":
            args += ["--security-opt", "seccomp=unconfined"]

        resources = container.get("resources", {})
        if "memory" in resources.get("limits", {}):
            args += ["--memory", str(memory_bytes(resources["limits"]["memory"]))]
        if "cpu" in resources.get("limits", {}):
            args += ["--cpus", f"{cpus(resources['limits']['cpu']):g}"]
        if "cpu" in resources.get("requests", {}):
            args += ["--cpu-shares", str(max(2, int(cpus(resources["requests"]["cpu"]) * 1024)))]

        mounts = {}
        for mount in container.get("volumeMounts", []):
            assert set(mount) <= {"name", "mountPath", "readOnly"}, f"{name}: mount settings not emulated: {mount}"
            host = self.volumes[(pod.name, mount["name"])]
            volume = next((v for v in pod.spec.get("volumes", []) if v["name"] == mount["name"]), {})
            read_only = mount.get("readOnly", False) or "secret" in volume or "configMap" in volume
            mounts[mount["mountPath"]] = not read_only
            args += ["--volume", f"{host}:{mount['mountPath']}" + (":ro" if read_only else "")]
        if security.get("readOnlyRootFilesystem"):
            args.append("--read-only")
            for host, path in self.read_only_stand_ins(name, image, mounts):
                args += ["--volume", f"{host}:{path}:ro"]

        env = {}
        for source in container.get("envFrom", []):
            assert set(source) == {"configMapRef"}, f"{name}: envFrom not emulated: {source}"
            env.update(self.config_maps[source["configMapRef"]["name"]])
        for item in container.get("env", []):
            reference = item.get("valueFrom", {})
            if "secretKeyRef" in reference:
                env[item["name"]] = self.secret(reference["secretKeyRef"]["name"], reference["secretKeyRef"]["key"])
            elif reference.get("fieldRef", {}).get("fieldPath") == "status.podIP":
                env[item["name"]] = self.pod_ip(pod)
            else:
                assert not reference, f"{name}: env valueFrom not emulated: {reference}"
                env[item["name"]] = expand(item.get("value", ""), env)
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]

        command = [expand(part, env) for part in container.get("command", [])]
        if command:
            args += ["--entrypoint", command[0]]
        args += [image, *command[1:], *(expand(part, env) for part in container.get("args", []))]
        self.docker(*args)
        self.created.append(name)
        return name

    def start(self, pod):
        """Create and start the pod's containers (its volumes first); their names."""
        self.prepare_volumes(pod)
        names = []
        for index, container in enumerate(pod.containers):
            name = self.create(pod, index, container)
            if name:
                names.append(name)
                self.docker("start", name)
                self.started[name] = (pod, container, time.monotonic())
        return names

    def logs(self, name):
        result = self.docker("logs", "--tail", "60", name, check=False)
        return f"--- logs of {name}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"

    # -- probes

    def host_port(self, pod, port):
        number, protocol = pod.ports.get(port, (port, "TCP"))
        assert protocol == "TCP", f"{pod.name}: an httpGet probe on {protocol} port {port}"
        if (pod.name, number) not in self.published:
            answer = self.docker("port", self.first[pod.name], f"{number}/tcp").stdout.split()
            self.published[(pod.name, number)] = int(answer[0].rsplit(":", 1)[1])
        return number, self.published[(pod.name, number)]

    def probe(self, name, probe):
        """One attempt of a probe: (passed, what it saw)."""
        pod, _, _ = self.started[name]
        timeout = probe.get("timeoutSeconds", 1)
        if "httpGet" in probe:
            get = probe["httpGet"]
            assert get.get("scheme", "HTTP") == "HTTP" and "host" not in get, f"{name}: httpGet not emulated: {get}"
            number, port = self.host_port(pod, get["port"])
            headers = {header["name"]: header["value"] for header in get.get("httpHeaders", [])}
            if not any(header.lower() == "host" for header in headers):
                headers["Host"] = f"{self.pod_ip(pod)}:{number}"  # what the kubelet sends
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}{get.get('path', '/')}", headers=headers, timeout=timeout,
                    allow_redirects=False,
                )  # fmt: skip
            except requests.RequestException as error:
                return False, f"GET {get.get('path', '/')}: {type(error).__name__}"
            return (
                answer.status_code == 200,
                f"GET {get.get('path', '/')} -> {answer.status_code} {answer.text[:200]!r}",
            )
        if "exec" in probe:
            command = probe["exec"]["command"]
            try:
                result = self.docker("exec", name, *command, timeout=timeout + EXEC_OVERHEAD, check=False)
            except subprocess.TimeoutExpired:
                return False, f"exec {command}: timed out"
            return result.returncode == 0, f"exec {command} -> {result.returncode} {result.stderr.strip()[-200:]!r}"
        pytest.fail(f"{name}: probe not emulated: {probe}")

    def create_network(self):
        self.docker("network", "create", "--label", f"{LABEL}={self.prefix}", self.network)
        (subnet,) = (config["Subnet"] for config in inspect(self.network)[0]["IPAM"]["Config"])
        self._free_ips = iter(list(ipaddress.ip_network(subnet).hosts())[99:])  # the engine's own start at .2

    def pod_ip(self, pod):
        if pod.name not in self.pod_ips:
            self.pod_ips[pod.name] = str(next(self._free_ips))
        return self.pod_ips[pod.name]

    def wait_ready(self, names):
        """Poll each container's startup, readiness, then liveness probe until each passed once."""
        stages = {}
        for name in names:
            _, container, _ = self.started[name]
            stages[name] = [(kind, container[kind]) for kind in _PROBES if kind in container]
            assert any(kind == "readinessProbe" for kind, _ in stages[name]), f"{name} has no readiness probe"
        all_stages = {name: list(found) for name, found in stages.items()}
        seen, restarts = {}, dict.fromkeys(names, 0)
        deadline = time.monotonic() + READY_DEADLINE
        while stages:
            states = {c["Name"].lstrip("/"): c["State"] for c in inspect(*stages)}
            for name in list(stages):
                if not states[name]["Running"]:
                    pod = self.started[name][0]
                    stopped = f"{name} stopped (exit {states[name]['ExitCode']})"
                    if pod.restart_policy != "Always" or restarts[name] >= MAX_RESTARTS:
                        pytest.fail(f"{stopped} before it was ready, {restarts[name]} restarts\n{self.logs(name)}")
                    restarts[name] += 1
                    self.report.append(f"{stopped}, restarted (Always): {self.logs(name).splitlines()[-1][-150:]}")
                    self.docker("start", name)
                    stages[name] = list(all_stages[name])
                    continue
                kind, probe = stages[name][0]
                passed, seen[name] = self.probe(name, probe)
                if passed:
                    stages[name].pop(0)
                    if kind == "readinessProbe":
                        seconds = time.monotonic() - self.started[name][2]
                        self.report.append(f"{name}: ready after {seconds:.1f} s ({seen[name][:60]})")
                    if not stages[name]:
                        del stages[name]
            if stages and time.monotonic() > deadline:
                waiting = "\n".join(f"{name}: {stages[name][0][0]} {seen.get(name)}" for name in stages)
                pytest.fail(f"not ready within {READY_DEADLINE} s:\n{waiting}\n" + "\n".join(map(self.logs, stages)))
            if stages:
                time.sleep(POLL)

    def run_jobs(self, pods):
        """Start the Jobs' pods together; each must complete (restartPolicy OnFailure: up to backoffLimit retries)."""
        names = {}
        for pod in pods:
            assert pod.restart_policy in ("OnFailure", "Never"), f"Job {pod.name}: restartPolicy {pod.restart_policy}"
            for name in self.start(pod):
                names[name] = pod
        for name, pod in names.items():
            started, attempts = self.started[name][2], 1
            while True:
                try:
                    code = int(self.docker("wait", name, timeout=pod.deadline).stdout.strip())
                except subprocess.TimeoutExpired:
                    pytest.fail(f"Job {pod.name} did not finish within {pod.deadline} s\n{self.logs(name)}")
                if code == 0 or pod.restart_policy != "OnFailure" or attempts > pod.backoff_limit:
                    break
                self.report.append(f"{name}: exit {code}, restarted (OnFailure) - {self.logs(name).splitlines()[-1]}")
                attempts += 1
                self.docker("start", name)
            assert code == 0, f"Job {pod.name} exited {code} (attempt {attempts})\n{self.logs(name)}"
            self.report.append(
                f"{name}: Job completed (exit 0) after {time.monotonic() - started:.1f} s, attempt {attempts}"
            )

    # -- what the container runs as

    def check_settings(self, name):
        pod, container, _ = self.started[name]
        security = {**pod.security, **container.get("securityContext", {})}
        status = _status(self.docker("exec", name, "cat", "/proc/1/status").stdout)
        uids, gids = status["Uid"].split(), status["Gid"].split()
        groups = status.get("Groups", "").split()
        problems = []
        if "runAsUser" in security and set(uids) != {str(security["runAsUser"])}:
            problems.append(f"uids {uids}, not {security['runAsUser']}")
        if security.get("runAsNonRoot") and "0" in uids:
            problems.append(f"runs as root: uids {uids}")
        if "runAsGroup" in security and set(gids) != {str(security["runAsGroup"])}:
            problems.append(f"gids {gids}, not {security['runAsGroup']}")
        if "fsGroup" in security and str(security["fsGroup"]) not in groups:
            problems.append(f"groups {groups} lack fsGroup {security['fsGroup']}")
        if security.get("allowPrivilegeEscalation") is False and status["NoNewPrivs"].strip() != "1":
            problems.append("no_new_privs is not set")
        if "ALL" in security.get("capabilities", {}).get("drop", []):
            for field in ("CapEff", "CapPrm", "CapBnd"):
                if int(status[field], 16) != 0:
                    problems.append(f"{field} {status[field]}, not empty")
        if security.get("seccompProfile", {}).get("type") == "RuntimeDefault" and status["Seccomp"].strip() != "2":
            problems.append(f"seccomp mode {status['Seccomp']}, not 2 (filter)")
        host = inspect(name)[0]["HostConfig"]
        if security.get("readOnlyRootFilesystem") and not host["ReadonlyRootfs"]:
            problems.append("the root filesystem is writable")
        limits = container.get("resources", {}).get("limits", {})
        if "memory" in limits and host["Memory"] != memory_bytes(limits["memory"]):
            problems.append(f"memory limit {host['Memory']}, not {limits['memory']}")
        mounted = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
        script = 'for d do if [ -w "$d" ]; then echo "$d"; fi; done'
        writable = set(self.docker("exec", name, "/bin/sh", "-c", script, "sh", *WRITE_CHECKED).stdout.split())
        expected = {d for d in WRITE_CHECKED if d in mounted and not mounted[d].get("readOnly")}
        if security.get("readOnlyRootFilesystem") and writable != expected:
            problems.append(f"writable {sorted(writable)}, expected {sorted(expected)} (the pod's volumes)")
        assert not problems, f"{name}: " + "; ".join(problems)

    def assert_still_running(self):
        """The long-running containers, once ready, kept running (restartPolicy Always would hide a crash)."""
        names = [name for name, (pod, _, _) in self.started.items() if pod.kind != "Job"]
        states = {c["Name"].lstrip("/"): c["State"] for c in inspect(*names)}
        stopped = [name for name in names if not states[name]["Running"]]
        assert not stopped, f"stopped after they were ready: {stopped}\n" + "\n".join(map(self.logs, stopped))

    def check_gaps(self):
        """Each STAND_IN_GAPS entry applied, and its stand-in still rejecting the rendered file."""
        assert set(self.gaps) == set(STAND_IN_GAPS), f"gaps applied: {sorted(self.gaps)}"
        for where, (image, text) in self.gaps.items():
            field = STAND_IN_GAPS[where][0]
            folder = self.folder / "gaps" / where.replace("/", "-")
            folder.mkdir(parents=True)
            (folder / "config.yml").write_text(text)
            (folder / "config.yml").chmod(0o644)
            name = f"{self.prefix}-gap-{len(self.created)}"
            stand_in = stand_in_for(image, self.third_party, self.ours)
            self.docker(
                "create", "--name", name, "--label", f"{LABEL}={self.prefix}", "--network", "none",
                "--volume", f"{folder}:/check:ro", "--entrypoint", "promtool", stand_in,
                "check", "config", "/check/config.yml",
            )  # fmt: skip
            self.created.append(name)
            output = self.docker("start", "--attach", name, check=False)
            code = int(self.docker("wait", name).stdout.strip())
            said = output.stdout + output.stderr
            assert code != 0 and field in said, f"{where}: {stand_in} accepts {field} now: drop the gap\n{said}"
            self.report.append(f"gap {where}: {stand_in} rejects {field} ({said.strip().splitlines()[-1][-120:]})")

    # -- the end

    def stop(self):
        """docker stop with each pod's grace period, all at once: {container: (seconds, exit code)}."""
        states = {c["Name"].lstrip("/"): c["State"] for c in inspect(*self.started)}
        by_grace = {}
        for name, (pod, _, _) in self.started.items():
            if states[name]["Running"]:
                by_grace.setdefault(pod.grace, []).append(name)
        began = time.monotonic()
        stopping = {
            grace: subprocess.Popen(["docker", "stop", "--timeout", str(grace), *names], stdout=subprocess.DEVNULL)
            for grace, names in by_grace.items()
        }
        seconds = {}
        for grace, process in stopping.items():
            process.wait(timeout=grace + 60)
            seconds[grace] = time.monotonic() - began
        stopped = [name for names in by_grace.values() for name in names]
        codes = {c["Name"].lstrip("/"): c["State"]["ExitCode"] for c in inspect(*stopped)} if stopped else {}
        return {name: (seconds[grace], codes[name]) for grace, names in by_grace.items() for name in names}

    def leftovers(self):
        containers = self.docker("ps", "--all", "--quiet", "--filter", f"label={LABEL}={self.prefix}").stdout.split()
        networks = self.docker("network", "ls", "--quiet", "--filter", f"name=^{self.network}$").stdout.split()
        return containers + networks

    def clean_up(self):
        for name in reversed(self.created):  # a pod's later containers use its first one's network
            self.docker("rm", "--force", "--volumes", name, check=False)
        for _ in range(3):  # podman may still see a removed container as a dependent one for a moment
            listing = self.docker("ps", "--all", "--quiet", "--filter", f"label={LABEL}={self.prefix}", check=False)
            if not listing.stdout.split():
                break
            for name in listing.stdout.split():
                self.docker("rm", "--force", "--volumes", name, check=False)
        self.docker("network", "rm", self.network, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_container_starts_with_its_pod_settings_and_gets_ready(env, rendered, images, tmp_path_factory):
    objects, infra = rendered[env]
    pods = [Pod(workload, objects) for workload in workloads(objects)]
    overlay = OverlayRun(env, objects, tmp_path_factory.mktemp(f"pods-{env}"))
    stopped = {}
    try:
        with Phase(f"overlay {env}: every pod on the engine, ready, checked, stopped"):
            overlay.create_network()
            layers = (
                [p for p in pods if (p.kind, p.name) in infra and p.kind != "Job"],
                [p for p in pods if p.kind == "Job"],
                [p for p in pods if (p.kind, p.name) not in infra],
            )
            assert sum(map(len, layers)) == len(pods)
            long_running, jobs, apps = layers
            with overlay.step("infra layer ready"):
                overlay.wait_ready([name for pod in long_running for name in overlay.start(pod)])
            with overlay.step("migration Jobs completed"):
                overlay.run_jobs(jobs)
            with overlay.step("apps layer ready"):
                overlay.wait_ready([name for pod in apps for name in overlay.start(pod)])
            overlay.assert_still_running()
            with overlay.step("settings of every running container checked"):
                for name, (pod, _, _) in overlay.started.items():
                    if pod.kind != "Job":
                        overlay.check_settings(name)
                overlay.check_gaps()
            with overlay.step("every container stopped with its grace period"):
                stopped = overlay.stop()
    finally:
        overlay.clean_up()
        print(f"\noverlay {env} ({overlay.prefix}):")
        for line in overlay.report:
            print(f"  {line}")
        for kind, pod, container, image in overlay.not_run:
            print(f"  not run: {kind} {pod}, container {container} ({image}): {NOT_RUN[image_repository(image)]}")
        for name, (seconds, code) in sorted(stopped.items()):
            print(f"  stopped {name}: exit {code} ({seconds:.1f} s)")

    assert not overlay.leftovers(), f"left on the engine: {overlay.leftovers()}"
    assert not overlay.folder.exists()
    expected = {
        (pod.kind, pod.name, container["name"], container["image"])
        for pod in pods
        for container in pod.containers
        if image_repository(container["image"]) in NOT_RUN
    }
    assert expected and set(overlay.not_run) == expected, overlay.not_run
    killed = {name.removeprefix(f"{overlay.prefix}-") for name, (_, code) in stopped.items() if code in (137, -9)}
    assert killed == set(NEEDS_SIGKILL), f"needed SIGKILL after the grace period: {sorted(killed)}"
