"""Linters: yamllint on every YAML file we ship, hadolint on the Dockerfile, ShellCheck on every shell script."""

import subprocess
from pathlib import Path

import deploy_checks as checks
import pytest
from deploy_checks import COMPOSE_DIR, DOCKERFILE, ENTRYPOINT, K8S_DIR
from yamllint import linter
from yamllint.config import YamlLintConfig

YAMLLINT_CONFIG = Path(__file__).with_name("yamllint.yaml")
YAML_FILES = sorted(
    [*COMPOSE_DIR.rglob("*.yml"), *COMPOSE_DIR.rglob("*.yaml"), *K8S_DIR.rglob("*.yaml"), YAMLLINT_CONFIG]
)


def yamllint_problems(path: Path) -> list[str]:
    config = YamlLintConfig(file=str(YAMLLINT_CONFIG))
    return [
        f"{path.name}:{problem.line}: {problem.desc} ({problem.rule})"
        for problem in linter.run(path.read_text(), config, str(path))
    ]


def test_there_are_yaml_files_to_lint():
    names = {path.name for path in YAML_FILES}

    assert {"docker-compose.yml", "docker-compose.observability.yml", "kustomization.yaml", "users.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(checks.ROOT)))
def test_yaml_is_yamllint_clean(path: Path):
    assert yamllint_problems(path) == []


def test_yamllint_catches_a_duplicated_key_and_trailing_spaces(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("services:\n  users:\n    image: a \n  users:\n    image: b\n")

    problems = yamllint_problems(broken)

    assert any("trailing-spaces" in problem for problem in problems)
    assert any("key-duplicates" in problem for problem in problems)


def run_tool(binary: str | None, *args: str) -> subprocess.CompletedProcess:
    if binary is None:
        pytest.skip("not installed: pip install -r requirements/dev.txt")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def test_dockerfile_is_hadolint_clean():
    result = run_tool(checks.hadolint_binary(), "--no-color", str(DOCKERFILE))

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_cd_used_instead_of_workdir(tmp_path: Path):
    broken = tmp_path / "Dockerfile"
    broken.write_text(DOCKERFILE.read_text() + "RUN cd /app && ls\n")

    result = run_tool(checks.hadolint_binary(), "--no-color", str(broken))

    assert result.returncode != 0
    assert "DL3003" in result.stdout


SHELL_SCRIPTS = checks.shell_scripts()


def test_every_shell_script_is_found_by_name_or_by_its_first_line():
    names = {str(path.relative_to(checks.ROOT)) for path in SHELL_SCRIPTS}

    assert {"manage_all.sh", "deploy/docker/entrypoint.sh", "deploy/docker/collectstatic.sh", ".ci/run"} <= names


def test_a_script_is_recognised_by_its_shebang_and_other_files_are_not(tmp_path: Path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "run").write_text("#!/usr/bin/env bash\necho hi\n")
    (tmp_path / "tool").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "script.py").write_text("#!/usr/bin/env python3\nprint('hi')\n")
    (tmp_path / "notes.txt").write_text("bash is a shell\n")

    assert [path.name for path in checks.shell_scripts(tmp_path)] == ["run", "tool"]


@pytest.mark.parametrize("path", SHELL_SCRIPTS, ids=lambda path: str(path.relative_to(checks.ROOT)))
def test_shell_script_is_shellcheck_clean(path: Path):
    result = run_tool(checks.shellcheck_binary(), str(path))

    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_an_unquoted_variable(tmp_path: Path):
    broken = tmp_path / "entrypoint.sh"
    broken.write_text(ENTRYPOINT.read_text().replace('cd "${APP_HOME}/${project}"', "cd ${APP_HOME}/${project}"))

    result = run_tool(checks.shellcheck_binary(), str(broken))

    assert result.returncode != 0
    assert "SC2086" in result.stdout
