"""metrics/prometheus: the configuration for both environments, the rules and their unit tests."""

import shutil
import subprocess

import dashboard_queries
import pytest
from metrics_contract import JOBS, SERVICE_JOBS, known_metrics, rules
from repository_paths import PROMETHEUS_DIR
from yaml_files import read_yaml


def run(*args):
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


def test_promtool_check_config_native(promtool):
    code, output = run(promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert code == 0, output
    assert "SUCCESS" in output


def test_promtool_check_config_compose(promtool, tmp_path):
    # As compose mounts it: the same prometheus.yml and rules, targets.compose/ as targets/.
    shutil.copy(PROMETHEUS_DIR / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copytree(PROMETHEUS_DIR / "rules", tmp_path / "rules")
    shutil.copytree(PROMETHEUS_DIR / "targets.compose", tmp_path / "targets")
    code, output = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert code == 0, output


def test_every_job_has_its_targets_in_both_environments():
    config = read_yaml(PROMETHEUS_DIR / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(JOBS)
    ports = dict(frontend=8000, thoughts_backend=8001, users_backend=8002, prometheus=9090, alertmanager=9093)
    # In compose every service listens on 8000 and is named with a hyphen.
    compose_targets = {job: f"{job.replace('_', '-')}:{8000 if job in SERVICE_JOBS else ports[job]}" for job in ports}

    for job, scrape in jobs.items():
        [discovery] = scrape["file_sd_configs"]
        [file_name] = discovery["files"]
        native = read_yaml(PROMETHEUS_DIR / file_name)
        compose = read_yaml(PROMETHEUS_DIR / file_name.replace("targets/", "targets.compose/"))
        assert [group["targets"] for group in native] == [[f"127.0.0.1:{ports[job]}"]], job
        assert [group["targets"] for group in compose] == [[compose_targets[job]]], job
        for groups in (native, compose):
            # the job label comes from job_name alone
            assert all("job" not in group.get("labels", {}) for group in groups)

    [alerting] = config["alerting"]["alertmanagers"]
    assert alerting["file_sd_configs"][0]["files"] == ["targets/alertmanager.yml"]
    assert config["rule_files"] == ["rules/*.yml"]
    assert sorted(p.name for p in (PROMETHEUS_DIR / "targets").iterdir()) == sorted(
        p.name for p in (PROMETHEUS_DIR / "targets.compose").iterdir()
    )


@pytest.mark.parametrize(("command", "folder"), [("check", "rules"), ("test", "tests")])
def test_promtool_passes_every_rule_file_and_rule_test(promtool, command, folder):
    """`promtool check rules` on rules/*.yml, `promtool test rules` on their unit tests in tests/*.yml."""
    files = sorted(str(path) for path in (PROMETHEUS_DIR / folder).glob("*.yml"))
    assert files
    code, output = run(promtool, command, "rules", *files)
    assert code == 0, output
    assert output.count("SUCCESS") == len(files), output


def test_every_alert_has_unit_tests_that_fire_and_that_do_not():
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    expected = {
        "TargetDown",
        "AvailabilityBudgetFastBurn",
        "LatencyBudgetSlowBurn",
        "WorkersSaturated",
        "MemoryNearLimit",
    }
    assert expected <= alerts
    firing, quiet = set(), set()
    for path in (PROMETHEUS_DIR / "tests").glob("*.yml"):
        for case in read_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - firing == set(), "alerts without a firing test"
    assert alerts - quiet == set(), "alerts without a not-firing test"


def test_every_alert_has_a_severity_a_summary_and_a_for():
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]
            assert rule["annotations"]["description"], rule["alert"]
            assert rule.get("for"), f"{rule['alert']} fires on a single evaluation"


def test_rules_read_only_metrics_the_services_expose():
    known = known_metrics()
    for rule in rules():
        unknown = dashboard_queries.metric_names(rule["expr"]) - known
        assert not unknown, f"{rule.get('alert') or rule.get('record')} reads unknown metrics {unknown}"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (job, le) (rate(a_bucket{le=~"0.5|1", x="y{z}"}[5m]))', {"a_bucket"}),
        ("histogram_quantile(0.95, sum(rate(b[1m])) by (le)) > 1e3 and on (job) up offset 5m", {"b", "up"}),
        ("x:y:z / on () group_left () vector(536870912)", {"x:y:z"}),
    ],
)
def test_metric_names_lexer(expr, names):
    assert dashboard_queries.metric_names(expr) == names
