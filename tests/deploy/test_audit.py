"""pip-audit: no pinned requirement has a known vulnerability (the PyPI JSON API's advisories).

It needs that service. When the service answers for none of the pins (a network that reaches PyPI's package
index but not its JSON API, like CI's here), the audit fails loudly, unless PIP_AUDIT_UNAVAILABLE=skip says
that this machine cannot audit: then it is skipped with the reason, in the summary of every run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
REQUIREMENTS = [ROOT / "requirements" / "base.txt", ROOT / "requirements" / "dev.txt"]


def pip_audit(*requirement_files: Path) -> dict:
    """The JSON report on exactly these pins (no resolution, nothing installed)."""
    command = [str(PIP_AUDIT), "--no-deps", "--disable-pip", "--format", "json", "--progress-spinner", "off"]
    for path in requirement_files:
        command += ["--requirement", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def audited(report: dict) -> list[dict]:
    """The dependencies the service answered for; fails, or skips if allowed, when it answered for none."""
    dependencies = report["dependencies"]
    answered = [dependency for dependency in dependencies if "skip_reason" not in dependency]
    if dependencies and not answered:
        reason = (
            f"pip-audit's vulnerability service answered for none of {len(dependencies)} pins: "
            + (dependencies[0]["skip_reason"])
        )
        if os.environ.get("PIP_AUDIT_UNAVAILABLE") == "skip":
            pytest.skip(reason)
        pytest.fail(reason + " (set PIP_AUDIT_UNAVAILABLE=skip only where no vulnerability service is reachable)")
    return answered


def test_no_pinned_requirement_has_a_known_vulnerability():
    report = pip_audit(*REQUIREMENTS)

    dependencies = audited(report)
    vulnerable = {f"{d['name']}=={d['version']}": [v["id"] for v in d["vulns"]] for d in dependencies if d["vulns"]}
    unaudited = [f"{d['name']}: {d['skip_reason']}" for d in report["dependencies"] if "skip_reason" in d]
    assert vulnerable == {}
    assert unaudited == []


def test_pip_audit_does_report_a_release_with_known_vulnerabilities(tmp_path: Path):
    old = tmp_path / "old.txt"
    old.write_text("django==3.2.0\n")

    (dependency,) = audited(pip_audit(old))

    assert dependency["name"] == "django"
    assert len(dependency["vulns"]) > 0
