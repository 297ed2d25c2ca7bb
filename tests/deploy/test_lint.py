"""Linters: yamllint on every YAML file we ship, hadolint on the Dockerfile, ShellCheck on the entry point."""

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


def test_entrypoint_is_shellcheck_clean():
    result = run_tool(checks.shellcheck_binary(), str(ENTRYPOINT))

    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_an_unquoted_variable(tmp_path: Path):
    broken = tmp_path / "entrypoint.sh"
    broken.write_text(ENTRYPOINT.read_text().replace('cd "${APP_HOME}/${project}"', "cd ${APP_HOME}/${project}"))

    result = run_tool(checks.shellcheck_binary(), str(broken))

    assert result.returncode != 0
    assert "SC2086" in result.stdout
