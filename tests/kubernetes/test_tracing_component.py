"""kubernetes/components/tracing: off in every overlay; added to an overlay's apps layer, it renders and
validates, runs the Jaeger image compose pins, points every service at it and opens the network path."""

import os

import kubernetes_validate
import pytest
import yaml
from image_versions import fill
from rendered_manifests import ENVIRONMENTS, ROOT, kustomize

from thoughts_common import tracing

KUBERNETES_VERSION = "1.37.0"
COMPONENT = ROOT / "kubernetes" / "components" / "tracing"
SERVICES = ("users-backend", "thoughts-backend", "frontend")
OTLP_PORT = 4318


def with_tracing(environment, folder):
    """The apps layer of ``environment`` with the component added as the README says (first of its components)."""
    layer = ROOT / "kubernetes" / "overlays" / environment / "apps"
    kustomization = yaml.safe_load((layer / "kustomization.yaml").read_text())

    def moved(path):
        return os.path.relpath(layer / path, folder)

    kustomization["resources"] = [moved(path) for path in kustomization["resources"]]
    kustomization["components"] = [os.path.relpath(COMPONENT, folder)] + [
        moved(path) for path in kustomization.get("components", [])
    ]
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return kustomize(folder)


def find(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name)
    return found[0]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_overlay_traces_by_default(environment):
    for objects in [kustomize(ROOT / "kubernetes" / "overlays" / environment)]:
        assert not [o for o in objects if "jaeger" in o["metadata"]["name"]]
        for config_map in (o for o in objects if o["kind"] == "ConfigMap"):
            assert tracing.ENDPOINT not in (config_map.get("data") or {})


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_component_adds_jaeger_and_points_the_services_at_it(environment, tmp_path):
    objects = with_tracing(environment, tmp_path)
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)

    namespace = f"thoughts-{environment}"
    jaeger = find(objects, "Deployment", "jaeger")
    service = find(objects, "Service", "jaeger")
    assert {o["metadata"].get("namespace") for o in objects if "jaeger" in o["metadata"]["name"]} == {namespace}
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"]["jaeger"]
    assert jaeger["spec"]["template"]["spec"]["containers"][0]["image"] == fill(compose["image"])
    assert OTLP_PORT in [port["port"] for port in service["spec"]["ports"]]

    config_maps = {o["metadata"]["name"]: o.get("data") or {} for o in objects if o["kind"] == "ConfigMap"}
    for name in SERVICES:
        pod = find(objects, "Deployment", name)["spec"]["template"]
        settings = {}
        for container in pod["spec"]["containers"]:
            for source in container.get("envFrom", []):
                settings.update(config_maps[source["configMapRef"]["name"]])
        assert settings.get(tracing.ENDPOINT) == f"http://jaeger:{OTLP_PORT}", name

        labels = pod["metadata"]["labels"]
        policies = [o["spec"] for o in objects if o["kind"] == "NetworkPolicy"]
        egress = [
            rule
            for policy in policies
            if selects(policy["podSelector"], labels)
            for rule in policy.get("egress", [])
            if any(selects(peer.get("podSelector", {}), {"app.kubernetes.io/name": "jaeger"}) for peer in rule["to"])
        ]
        assert any(port["port"] == OTLP_PORT for rule in egress for port in rule["ports"]), name
        ingress = [
            rule
            for policy in policies
            if selects(policy["podSelector"], jaeger["spec"]["template"]["metadata"]["labels"])
            for rule in policy.get("ingress", [])
            if any(selects(peer.get("podSelector", {"matchLabels": {"-": "-"}}), labels) for peer in rule["from"])
        ]
        assert any(port["port"] == OTLP_PORT for rule in ingress for port in rule["ports"]), name


def selects(selector, labels):
    """Whether a label selector (matchLabels, matchExpressions with In: what ours use) selects ``labels``."""
    expressions = selector.get("matchExpressions") or []
    assert all(expression["operator"] == "In" for expression in expressions), selector
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items()) and all(
        labels.get(expression["key"]) in expression["values"] for expression in expressions
    )
