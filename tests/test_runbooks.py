"""docs/runbooks: one page per alert, linked from the alert's runbook_url, and no page without an alert."""

import re

from metrics_contract import rules
from repository_paths import METRICS, ROOT
from yaml_files import read_yaml

RUNBOOKS = "docs/runbooks"
SECTIONS = ("## Confirm", "## First steps")


def alerts():
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def pages():
    return {path.stem: path for path in (ROOT / RUNBOOKS).glob("*.md") if path.name != "README.md"}


def test_every_alert_links_its_runbook_from_the_one_base_url():
    base = read_yaml(METRICS / "slo" / "objectives.yml")["runbook_base_url"]
    assert base.rstrip("/").endswith(RUNBOOKS)
    found = alerts()
    assert len(found) >= 8
    for name, rule in found.items():
        assert rule["annotations"].get("runbook_url") == f"{base}/{name}.md", name


def test_every_alert_has_a_runbook_and_every_runbook_an_alert():
    assert set(alerts()) - set(pages()) == set(), "alerts without a runbook"
    assert set(pages()) - set(alerts()) == set(), "runbooks without an alert"


def test_every_runbook_says_what_it_means_how_to_confirm_and_what_to_do():
    for name, path in pages().items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# {name}\n"), name
        assert re.search(r"\*\*Severity: (critical|warning)\b", text), name
        severity = re.search(r"\*\*Severity: (\w+)", text).group(1)
        assert alerts()[name]["labels"]["severity"] == severity, name
        for section in SECTIONS:
            assert f"\n{section}\n" in text, f"{name}: no {section!r}"
        assert "frontail" in text or "logs" in text.lower(), f"{name}: says nothing about the logs"
