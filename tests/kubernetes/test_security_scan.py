"""checkov over every rendered overlay and the Dockerfiles: no failed check.

checkov lives in its own virtualenv (its pins clash with the project's):
    python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov
Without it the test skips locally and fails with CI=true.
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from thoughts_common.testing.postgres import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov/bin/checkov"
ENVIRONMENTS = ("dev", "demo", "staging", "production")
DOCKERFILES = ("common/docker/service.Dockerfile", "logs/Dockerfile")
# Every check we skip, and why (one line each).
SKIPPED = {
    "CKV_K8S_15": "imagePullPolicy Always: images are immutable version tags (dev: images loaded into the node)",
    "CKV_K8S_43": "image digests: releases are immutable semver tags that Flux image automation follows",
    "CKV_K8S_35": "Alertmanager's webhook URL is an env var because metrics/alertmanager/render.sh reads it so",
    "CKV_K8S_38": "Prometheus needs its ServiceAccount token for pod discovery (namespaced Role, list/watch pods)",
    "CKV_K8S_40": "postgres (999) and grafana (472) run as the users their images own their files with",
    "CKV_DOCKER_2": "logs/Dockerfile: rsyslog listens on UDP only; Kubernetes probes it with exec probes",
}


@pytest.fixture(scope="module")
def checkov_report(overlays, tmp_path_factory):
    if not CHECKOV.exists():
        unavailable(f"{CHECKOV} is missing (python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov)")
    folder = tmp_path_factory.mktemp("rendered")
    for env in ENVIRONMENTS:
        (folder / f"{env}.yaml").write_text(yaml.safe_dump_all(overlays[env]))
    files = [str(folder / f"{env}.yaml") for env in ENVIRONMENTS] + [str(ROOT / d) for d in DOCKERFILES]
    command = [str(CHECKOV), "--quiet", "--compact", "-o", "json", "--framework", "kubernetes", "dockerfile"]
    command += ["--skip-check", ",".join(SKIPPED)]
    for file in files:
        command += ["-f", file]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_nothing(checkov_report):
    kinds = {r["check_type"] for r in checkov_report}
    assert kinds == {"kubernetes", "dockerfile"}
    failed = [
        f"{r['check_type']}: {c['check_id']} {c['check_name']} ({c['resource']})"
        for r in checkov_report
        for c in r["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    assert all(r["summary"]["parsing_errors"] == 0 and r["summary"]["passed"] > 0 for r in checkov_report)
