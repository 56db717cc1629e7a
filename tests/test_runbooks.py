"""docs/runbooks: one page per alert, linked from the alert's runbook_url, and no page without an alert."""

import re

RUNBOOKS = "docs/runbooks"
SECTIONS = ("## Confirm", "## First steps")


def alerts(obs):
    return {rule["alert"]: rule for rule in obs.rules() if "alert" in rule}


def pages(obs):
    return {path.stem: path for path in (obs.ROOT / RUNBOOKS).glob("*.md") if path.name != "README.md"}


def test_every_alert_links_its_runbook_from_the_one_base_url(obs):
    base = obs.read_yaml(obs.METRICS / "slo" / "objectives.yml")["runbook_base_url"]
    assert base.rstrip("/").endswith(RUNBOOKS)
    found = alerts(obs)
    assert len(found) >= 8
    for name, rule in found.items():
        assert rule["annotations"].get("runbook_url") == f"{base}/{name}.md", name


def test_every_alert_has_a_runbook_and_every_runbook_an_alert(obs):
    assert set(alerts(obs)) - set(pages(obs)) == set(), "alerts without a runbook"
    assert set(pages(obs)) - set(alerts(obs)) == set(), "runbooks without an alert"


def test_every_runbook_says_what_it_means_how_to_confirm_and_what_to_do(obs):
    for name, path in pages(obs).items():
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# {name}\n"), name
        assert re.search(r"\*\*Severity: (critical|warning)\b", text), name
        severity = re.search(r"\*\*Severity: (\w+)", text).group(1)
        assert alerts(obs)[name]["labels"]["severity"] == severity, name
        for section in SECTIONS:
            assert f"\n{section}\n" in text, f"{name}: no {section!r}"
        assert "frontail" in text or "logs" in text.lower(), f"{name}: says nothing about the logs"
