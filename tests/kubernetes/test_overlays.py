"""The environments differ only where intended: namespace, images, replicas,
feature flags and the demo data seeded after the migrations."""

import copy
import re

import pytest

ENVIRONMENTS = ("dev", "demo", "staging", "production")
FIRST_PARTY = ("users-backend", "thoughts-backend", "frontend", "syslog")
SERVICES = ("users-backend", "thoughts-backend", "frontend")
REPLICAS = {"dev": 1, "demo": 1, "staging": 2, "production": 3}
SIGNUP = {"dev": "false", "demo": "true", "staging": "false", "production": "false"}
SEEDED = {"dev": True, "demo": True, "staging": False, "production": False}
RELEASE_TAG = re.compile(r"^registry\.example\.com/thoughts/([\w-]+):\d+\.\d+\.\d+$")


def normalized(objects, env):
    """The objects with every intended difference taken out."""
    out = {}
    for obj in copy.deepcopy(objects):
        meta = obj["metadata"]
        meta.pop("namespace", None)
        if obj["kind"] == "Namespace":
            meta["name"] = "NAMESPACE"
        for subject in obj.get("subjects", []):
            subject["namespace"] = "NAMESPACE"
        if obj["kind"] == "ConfigMap":
            meta["name"] = re.sub(r"-[a-z0-9]{10}$", "", meta["name"])
            obj["data"].pop("FEATURE_SIGNUP", None)
        spec = obj.get("spec", {})
        if obj["kind"] == "Deployment" and meta["name"] in SERVICES:
            spec["replicas"] = "REPLICAS"
        template = spec.get("template", {}).get("spec", {})
        for container in template.get("containers", []):
            image = container["image"]
            if image.startswith(("local/", "registry.example.com/")):
                container["image"] = "IMAGE"
            for source in container.get("envFrom", []):
                source["configMapRef"]["name"] = re.sub(r"-[a-z0-9]{10}$", "", source["configMapRef"]["name"])
            if obj["kind"] == "Job":
                container["command"] = "MIGRATE"
        for volume in template.get("volumes", []):
            if "configMap" in volume:
                volume["configMap"]["name"] = re.sub(r"-[a-z0-9]{10}$", "", volume["configMap"]["name"])
        out[(obj["kind"], meta["name"])] = obj
    return out


@pytest.mark.parametrize("env", ENVIRONMENTS[1:])
def test_overlays_differ_only_where_intended(overlays, env):
    dev = normalized(overlays["dev"], "dev")
    other = normalized(overlays[env], env)
    assert set(other) == set(dev)
    for key, obj in other.items():
        assert obj == dev[key], f"{env}: {key} differs from dev beyond namespace/images/replicas/flags/seeding"


def find(objects, kind, name):
    (obj,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_intended_differences(overlays, env):
    objects = overlays[env]
    for name in SERVICES:
        deployment = find(objects, "Deployment", name)
        assert deployment["spec"]["replicas"] == REPLICAS[env], name
    flags = {
        o["metadata"]["name"].rsplit("-", 1)[0]: o["data"]["FEATURE_SIGNUP"]
        for o in objects
        if o["kind"] == "ConfigMap" and "FEATURE_SIGNUP" in o.get("data", {})
    }
    assert flags == {"users-backend-env": SIGNUP[env], "frontend-env": SIGNUP[env]}
    images = {
        c["image"]
        for o in objects
        if o["kind"] in {"Deployment", "StatefulSet", "Job"}
        for c in o["spec"]["template"]["spec"]["containers"]
        if any(f"/{n}" in c["image"] for n in FIRST_PARTY)
    }
    if env == "dev":
        assert images == {f"local/{n}:dev" for n in FIRST_PARTY}
    else:
        assert {RELEASE_TAG.match(i).group(1) for i in images if RELEASE_TAG.match(i)} == set(FIRST_PARTY), images
        assert len(images) == len(FIRST_PARTY)
    for job in ("users-migrate", "thoughts-migrate"):
        command = " ".join(find(objects, "Job", job)["spec"]["template"]["spec"]["containers"][0]["command"])
        assert ("seed-demo" in command) is SEEDED[env], (env, job)


def test_production_runs_what_staging_ran_before(overlays):
    """Same registry and tag format: promotion is copying staging's tags."""
    for env in ("staging", "production", "demo"):
        for obj in overlays[env]:
            for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                assert not container["image"].startswith("local/"), (env, container["image"])
