"""Every overlay renders, and every object is valid for a current Kubernetes."""

import kubernetes_validate
import pytest

KUBERNETES_VERSION = "1.37.0"  # the newest schemas kubernetes-validate bundles (offline)
ENVIRONMENTS = ("dev", "demo", "staging", "production")


@pytest.mark.parametrize("path", ["kubernetes/base", "kubernetes/base/infra", "kubernetes/base/apps", "flux"])
def test_base_and_flux_render(render, path):
    assert render(path)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_overlay_renders_both_layers(overlays, layers, env):
    whole = {key(o) for o in overlays[env]}
    infra = {key(o) for o in layers[(env, "infra")]}
    apps = {key(o) for o in layers[(env, "apps")]}
    # Two Flux Kustomizations must never own the same object.
    assert not infra & apps
    assert whole == infra | apps
    assert len(whole) == len(overlays[env]), "duplicate objects"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_objects_validate_against_kubernetes_openapi(overlays, env):
    errors = []
    for obj in overlays[env]:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_everything_in_the_environments_namespace(overlays, env):
    namespace = f"thoughts-{env}"
    namespaces = [o["metadata"]["name"] for o in overlays[env] if o["kind"] == "Namespace"]
    assert namespaces == [namespace]
    for obj in overlays[env]:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, key(obj)
        for subject in obj.get("subjects", []):
            assert subject.get("namespace") == namespace, key(obj)
    assert not any(o["kind"].startswith("Cluster") for o in overlays[env]), "environments share a cluster"


def key(obj):
    return (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
