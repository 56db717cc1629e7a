"""The Flux objects: valid against the Flux CRD schemas, pointing at paths that
exist and render, ordered so that migrations come first."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path("/work/shared/schemas/flux")
ENVIRONMENTS = ("dev", "demo", "staging", "production")
SCHEMA_FILES = {
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "gitrepository-source-v1.json",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "kustomization-kustomize-v1.json",
    ("image.toolkit.fluxcd.io/v1", "ImageRepository"): "imagerepository-image-v1.json",
    ("image.toolkit.fluxcd.io/v1", "ImagePolicy"): "imagepolicy-image-v1.json",
    ("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation"): "imageupdateautomation-image-v1.json",
}


def of_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_flux_objects_validate_against_their_crd_schemas(flux_objects):
    if not SCHEMAS.is_dir():
        pytest.skip(f"no Flux schemas at {SCHEMAS}")
    for obj in flux_objects:
        schema = json.loads((SCHEMAS / SCHEMA_FILES[(obj["apiVersion"], obj["kind"])]).read_text())
        jsonschema.validate(obj, schema)


def test_every_flux_file_is_applied(root):
    """flux/kustomization.yaml lists source.yaml and every environment's folder; each folder's
    kustomization.yaml lists its other files, and the template is the one component they share."""
    flux = root / "flux"
    listed = set(yaml.safe_load((flux / "kustomization.yaml").read_text())["resources"])
    environments = {p.parent.name for p in flux.glob("*/kustomization.yaml")} - {"environment"}
    assert listed == {"source.yaml", *ENVIRONMENTS} and environments == set(ENVIRONMENTS)
    reached = {flux / "source.yaml", *(flux / "environment").glob("*.yaml")}
    for env in ENVIRONMENTS:
        kustomization = yaml.safe_load((flux / env / "kustomization.yaml").read_text())
        assert kustomization["components"] == ["../environment"], env
        reached |= {flux / env / "kustomization.yaml", *(flux / env / r for r in kustomization.get("resources", []))}
    assert {p for p in flux.rglob("*.yaml") if p != flux / "kustomization.yaml"} == reached


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_is_the_template_with_its_name_and_interval(flux_objects, root, env):
    kustomizations = of_kind(flux_objects, "Kustomization")
    (generator,) = yaml.safe_load((root / "flux" / env / "kustomization.yaml").read_text())["configMapGenerator"]
    interval = dict(literal.split("=", 1) for literal in generator["literals"])["interval"]
    template = (root / "flux/environment/kustomizations.yaml").read_text()
    expected = list(yaml.safe_load_all(template.replace("ENV", env).replace("interval: 5m", f"interval: {interval}")))
    assert [k["metadata"]["name"] for k in expected] == [f"thoughts-{env}-infra", f"thoughts-{env}-apps"]
    for want in expected:
        assert kustomizations[want["metadata"]["name"]] == want


def test_kustomization_paths_exist_and_render(flux_objects, render, root):
    repositories = of_kind(flux_objects, "GitRepository")
    for name, ks in of_kind(flux_objects, "Kustomization").items():
        spec = ks["spec"]
        assert spec["sourceRef"]["kind"] == "GitRepository" and spec["sourceRef"]["name"] in repositories, name
        assert spec["prune"] is True and spec["wait"] is True, name
        path = root / spec["path"]
        assert (path / "kustomization.yaml").is_file(), f"{name}: {spec['path']}"
        objects = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in render(spec["path"])}
        assert spec["healthChecks"], name
        for check in spec["healthChecks"]:
            assert (check["kind"], check["namespace"], check["name"]) in objects, f"{name}: {check}"


def test_git_repository_ignores_nothing_the_kustomizations_need(flux_objects):
    (repository,) = of_kind(flux_objects, "GitRepository").values()
    kept = set(re.findall(r"^!/(\w+)/$", repository["spec"]["ignore"], re.MULTILINE))
    # The overlays include ../../../metrics: both folders must reach the cluster.
    assert kept == {"kubernetes", "metrics"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_migrations_come_before_the_services(flux_objects, env):
    kustomizations = of_kind(flux_objects, "Kustomization")
    infra, apps = kustomizations[f"thoughts-{env}-infra"], kustomizations[f"thoughts-{env}-apps"]
    assert infra["spec"]["path"] == f"./kubernetes/overlays/{env}/infra"
    assert apps["spec"]["path"] == f"./kubernetes/overlays/{env}/apps"
    assert "dependsOn" not in infra["spec"]
    assert apps["spec"]["dependsOn"] == [{"name": f"thoughts-{env}-infra"}]
    checked = {(c["kind"], c["name"]) for c in infra["spec"]["healthChecks"]}
    assert {("Job", "users-migrate"), ("Job", "thoughts-migrate"), ("StatefulSet", "db")} <= checked


def test_staging_image_automation_matches_the_overlay(flux_objects, root):
    repositories = of_kind(flux_objects, "ImageRepository")
    policies = of_kind(flux_objects, "ImagePolicy")
    (automation,) = of_kind(flux_objects, "ImageUpdateAutomation").values()
    update_path = root / automation["spec"]["update"]["path"]
    assert update_path.is_dir() and update_path.name == "staging"
    settings = (root / "kubernetes/overlays/staging/settings/kustomization.yaml").read_text()
    images = yaml.safe_load(settings)["images"]
    markers = re.findall(r'newTag: "[^"]+" # \{"\$imagepolicy": "flux-system:([\w-]+):tag"\}', settings)
    assert sorted(markers) == sorted(policies) == sorted(repositories)
    for image in images:
        name = image["newName"].rsplit("/", 1)[1]
        assert repositories[name]["spec"]["image"] == image["newName"]
        assert policies[name]["spec"]["imageRepositoryRef"]["name"] == name
        assert "semver" in policies[name]["spec"]["policy"]
    # No other overlay follows the registry by itself.
    for env in ("dev", "demo", "production"):
        assert "$imagepolicy" not in (root / f"kubernetes/overlays/{env}/settings/kustomization.yaml").read_text()
