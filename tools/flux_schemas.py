"""The JSON Schemas of the Flux objects, from the CRDs of the Flux release in flux/versions.env.

    .venv/bin/python tools/flux_schemas.py        (make flux-schemas)

Writes tests/kubernetes/flux-schemas: for every kind and served version of the
CRDs of source-, kustomize-, image-reflector- and image-automation-controller,
the version's openAPIV3Schema with apiVersion and kind pinned as enums and
required, and a $comment naming its source; and the folder's README.md. Output
is deterministic (sorted keys, one-space indentation), so running it again
changes nothing; files of kinds or versions no longer generated are removed.

Needs Go and the Go module proxy (GOPROXY). The CRDs are the controllers'
config/crd/bases/*.yaml from their Go modules. The proxy does not serve the
root modules of the two image controllers, only their api submodules (the Go
types flux2 itself builds against): for those the CRDs are generated from the
api module by controller-gen at the version the controllers pin, the command
their `make manifests` runs (on source- and kustomize-controller's api modules
it reproduces their config/crd/bases byte for byte).

Before anything is written, the controller versions of flux/versions.env are
checked against the flux2 release: its manifests/crds/kustomization.yaml (the
CRDs `flux install` applies) and the api modules its go.mod requires.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "flux/versions.env"
OUT = ROOT / "tests/kubernetes/flux-schemas"
FLUX2 = "github.com/fluxcd/flux2/v2"
CONTROLLER_GEN = "sigs.k8s.io/controller-tools/cmd/controller-gen"
# controller -> where its CRDs come from: "bases", the module's config/crd/bases;
# "api", generated from its api submodule (the proxy refuses the root module).
CONTROLLERS = {
    "source-controller": "bases",
    "kustomize-controller": "bases",
    "image-reflector-controller": "api",
    "image-automation-controller": "api",
}


def read_versions(path=VERSIONS):
    versions = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            versions[key.strip()] = value.strip()
    return versions


def version_key(controller):
    return controller.upper().replace("-", "_") + "_VERSION"


def schema_file_name(api_version, kind):
    """gitrepository-source-v1.json for source.toolkit.fluxcd.io/v1 GitRepository."""
    group, version = api_version.split("/")
    return f"{kind.lower()}-{group.split('.')[0]}-{version}.json"


class Go:
    """go commands in a scratch module (go mod download needs one); the module cache is the usual one."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.env = {**os.environ, "GOFLAGS": (os.environ.get("GOFLAGS", "") + " -mod=mod").strip()}
        self.run("mod", "init", "flux-schemas")

    def run(self, *args, cwd=None, env=None):
        command = ["go", *args]
        done = subprocess.run(command, cwd=cwd or self.scratch, env=env or self.env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
        return done.stdout

    def download(self, module, version):
        """The module's folder in the module cache (read-only)."""
        return Path(json.loads(self.run("mod", "download", "-json", f"{module}@{version}"))["Dir"])

    def controller_gen(self, version):
        binary = self.scratch / "bin/controller-gen"
        if not binary.exists():
            env = {**self.env, "GOBIN": str(binary.parent), "GOFLAGS": os.environ.get("GOFLAGS", "")}
            self.run("install", f"{CONTROLLER_GEN}@{version}", env=env)
        return binary


def check_release(versions, flux2):
    """The controller versions of flux/versions.env are the ones the flux2 release bundles."""
    installed = {}
    for url in yaml.safe_load((flux2 / "manifests/crds/kustomization.yaml").read_text())["resources"]:
        match = re.fullmatch(r"https://github\.com/fluxcd/([\w-]+)/releases/download/(v[\w.-]+)/\1\.crds\.yaml", url)
        if match:
            installed[match[1]] = match[2]
    gomod = (flux2 / "go.mod").read_text()
    required = dict(re.findall(r"^\s*github\.com/fluxcd/([\w-]+)/api (v\S+)$", gomod, re.MULTILINE))
    wrong = [
        f"{controller} {versions[version_key(controller)]}: {what} of flux2 has {found.get(controller)}"
        for controller in CONTROLLERS
        for what, found in (("manifests/crds/kustomization.yaml", installed), ("go.mod", required))
        if found.get(controller) != versions[version_key(controller)]
    ]
    if wrong:
        release = f"flux2 {versions['FLUX_VERSION']}"
        sys.exit(f"{VERSIONS.relative_to(ROOT)} does not match {release}:\n  " + "\n  ".join(wrong))


def controller_crds(go, controller, version, controller_gen_version):
    """[(how it was made, CRD file)] of one controller version."""
    module = f"github.com/fluxcd/{controller}"
    if CONTROLLERS[controller] == "bases":
        paths = sorted((go.download(module, version) / "config/crd/bases").glob("*.yaml"))
        for path in paths:
            annotations = yaml.safe_load(path.read_text())["metadata"].get("annotations", {})
            if annotations.get("controller-gen.kubebuilder.io/version") != controller_gen_version:
                sys.exit(
                    f"{controller} {version} {path.name} was not generated by controller-gen {controller_gen_version}"
                    f" (CONTROLLER_GEN_VERSION in {VERSIONS.relative_to(ROOT)})"
                )
        return [(f"config/crd/bases/{path.name}", path) for path in paths]
    work = go.scratch / controller
    api, bases = work / "api", work / "config/crd/bases"
    shutil.copytree(go.download(f"{module}/api", version), api)
    for path in [api, *api.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    # As the controllers' `make manifests`: cd api; controller-gen crd:crdVersions=v1 paths="./..." output:...
    binary = go.controller_gen(controller_gen_version)
    done = subprocess.run(
        [str(binary), "crd:crdVersions=v1", "paths=./...", f"output:crd:artifacts:config={bases}"],
        cwd=api,
        env=go.env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"controller-gen over {controller}/api {version} failed:\n{done.stderr.strip()}")
    how = "config/crd/bases/{} as generated from its api module by controller-gen " + controller_gen_version
    return [(how.format(path.name), path) for path in sorted(bases.glob("*.yaml"))]


def schemas(crd, source):
    """{file name: JSON Schema} of every served version of one CRD."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    found = {}
    for version in crd["spec"]["versions"]:
        if not version.get("served"):
            continue
        api_version = f"{group}/{version['name']}"
        schema = {
            "$comment": f"{kind} {api_version} from {source} (Apache-2.0)",
            **version["schema"]["openAPIV3Schema"],
        }
        properties = schema["properties"] = dict(schema["properties"])
        properties["apiVersion"] = {"enum": [api_version], "type": "string"}
        properties["kind"] = {"enum": [kind], "type": "string"}
        pinned = ["apiVersion", "kind", "metadata"]
        schema["required"] = [*pinned, *(name for name in schema.get("required", []) if name not in pinned)]
        found[schema_file_name(api_version, kind)] = {
            "schema": schema,
            "row": (api_version, kind, version.get("storage", False), version.get("deprecated", False), source),
        }
    return found


README = """\
# Flux CRD schemas

Generated by `make flux-schemas` (`tools/flux_schemas.py`); do not edit. The
JSON Schemas `tests/kubernetes/test_flux.py` validates the objects in `flux/`
against: the `openAPIV3Schema` of every served version of the CRDs of
source-, kustomize-, image-reflector- and image-automation-controller
(fluxcd/*, Apache License 2.0), one file per kind and version, with
`apiVersion` and `kind` pinned as enums and required, and a `$comment` naming
the source.

The versions are those of **Flux {flux}**, pinned in `flux/versions.env`
(source-controller {source}, kustomize-controller {kustomize},
image-reflector-controller {reflector}, image-automation-controller
{automation}). To follow another Flux release: set the versions there (the
controller versions its `manifests/crds/kustomization.yaml` installs; the
generator refuses others), run `make flux-schemas` and commit the result. It
needs Go and the Go module proxy: the CRDs are each controller's
`config/crd/bases/*.yaml` from its Go module. The proxy serves only the `api`
submodule of the two image controllers, so their CRDs are generated from it by
controller-gen {controller_gen}, as the controllers' `make manifests` does.
`make test` reads these files and needs no network.

Prefer the version marked *storage*; *deprecated* ones still validate but
should not be used.

| file | apiVersion | kind | storage | deprecated |
|---|---|---|---|---|
"""


def readme(versions, rows):
    text = README.format(
        flux=versions["FLUX_VERSION"],
        source=versions["SOURCE_CONTROLLER_VERSION"],
        kustomize=versions["KUSTOMIZE_CONTROLLER_VERSION"],
        reflector=versions["IMAGE_REFLECTOR_CONTROLLER_VERSION"],
        automation=versions["IMAGE_AUTOMATION_CONTROLLER_VERSION"],
        controller_gen=versions["CONTROLLER_GEN_VERSION"],
    )
    for name, (api_version, kind, storage, deprecated, _) in sorted(rows.items()):
        text += f"| {name} | {api_version} | {kind} | {'yes' if storage else ''} | {'yes' if deprecated else ''} |\n"
    return text


def main():
    versions = read_versions()
    with tempfile.TemporaryDirectory(prefix="flux-schemas-") as scratch:
        go = Go(Path(scratch))
        check_release(versions, go.download(FLUX2, versions["FLUX_VERSION"]))
        generated = {}
        for controller in CONTROLLERS:
            version = versions[version_key(controller)]
            for how, path in controller_crds(go, controller, version, versions["CONTROLLER_GEN_VERSION"]):
                source = f"fluxcd/{controller} {version} (Flux {versions['FLUX_VERSION']}) {how}"
                generated.update(schemas(yaml.safe_load(path.read_text()), source))
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in sorted(set(p.name for p in OUT.glob("*.json")) - set(generated)):
        (OUT / stale).unlink()
    for name, item in sorted(generated.items()):
        (OUT / name).write_text(json.dumps(item["schema"], indent=1, sort_keys=True) + "\n")
    (OUT / "README.md").write_text(readme(versions, {name: item["row"] for name, item in generated.items()}))
    print(f"{len(generated)} schemas of Flux {versions['FLUX_VERSION']} in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
