"""ruff, flake8-bandit's security rules (S) included, is clean on the whole repository, bench/ and the seed's
code too, and its formatter has nothing to change (config: ruff.toml, bench/ruff.toml)."""

import subprocess
import sys
from pathlib import Path

import deploy_checks as checks

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
INSECURE = 'import subprocess\n\nPASSWORD = "hunter2"\nsubprocess.run(f"ls {PASSWORD}", shell=True)\n'


def ruff_check(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "concise", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def flagged_rules(path: str) -> set[str]:
    result = ruff_check("--stdin-filename", path, "-", stdin=INSECURE)
    return {line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith(path)}


def test_the_repository_is_ruff_formatted():
    result = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", "."], capture_output=True, text=True, timeout=120, cwd=ROOT
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_repository_is_ruff_clean():
    result = ruff_check(".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_application_code_gets_the_security_rules():
    assert {"S105", "S602"} <= flagged_rules("gateway_project/clients/example.py")


def test_tests_may_hold_throwaway_passwords_but_never_run_a_shell():
    rules = flagged_rules("tests/gateway/test_example.py")

    assert "S602" in rules
    assert "S105" not in rules


def test_every_python_file_in_the_repository_is_linted():
    listed = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--show-files", "."], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    linted = {Path(line.strip()) for line in listed.stdout.splitlines() if line.strip().endswith(".py")}
    python_files = {path for path in checks.repository_files() if path.suffix == ".py"}

    assert python_files - linted == set()
    assert ROOT / "bench" / "seed" / "gateway.py" in linted


def test_the_benchmark_harness_gets_the_security_rules():
    assert {"S105", "S602"} <= flagged_rules("bench/example.py")


def test_the_seed_keeps_only_its_missing_timeouts_out_of_the_security_rules():
    seed = 'import requests\n\nrequests.get("http://localhost:5001/user/1")\n'
    result = ruff_check("--stdin-filename", "bench/seed/gateway.py", "-", stdin=INSECURE + seed)
    rules = {line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("bench/seed/gateway.py")}

    assert "S113" not in rules
    assert {"S105", "S602"} <= rules
