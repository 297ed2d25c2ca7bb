"""The image contract: one slim multi-stage non-root image, its build context and its entry point."""

import os
import subprocess
import sys
from pathlib import Path

import deploy_checks as checks
import pytest
from deploy_checks import DOCKERFILE, DOCKERIGNORE, ENTRYPOINT, PROJECTS, ROOT


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck_and_entrypoint():
    assert checks.dockerfile_problems() == []


def test_healthcheck_asks_healthz():
    assert '/healthz"' in (ROOT / "deploy/docker/healthcheck.py").read_text()


IGNORED = [
    ".venv", ".git", "var", "var/log/users-1.log", "tests", "bench/results", "docs", "compose", "deploy/k8s",
    "user_project/users/__pycache__/models.cpython-311.pyc",
]  # fmt: skip
COPIED = [
    "requirements/base.txt", "libs/svc_common", "deploy/gunicorn.conf.py", "deploy/docker",
    "user_project", "product_project/manage.py", "gateway_project",
]  # fmt: skip


@pytest.mark.parametrize("path", IGNORED)
def test_dockerignore_leaves_out_what_the_image_does_not_need(path: str):
    assert checks.dockerignored(path, checks.dockerignore_patterns())


@pytest.mark.parametrize("path", COPIED)
def test_dockerignore_keeps_what_the_image_copies(path: str):
    assert not checks.dockerignored(path, checks.dockerignore_patterns())


def run_entrypoint(service: str, *command: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "SERVICE": service, "APP_HOME": str(ROOT)}
    return subprocess.run(["bash", str(ENTRYPOINT), *command], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("service", sorted(PROJECTS))
def test_entrypoint_maps_service_to_its_project_and_settings(service: str):
    from stackctl.config import SERVICES

    result = run_entrypoint(service, "sh", "-c", 'echo "$PWD $DJANGO_SETTINGS_MODULE $GUNICORN_PROC_NAME"')

    assert result.returncode == 0, result.stderr
    project = SERVICES[service].project
    assert result.stdout.split() == [str(ROOT / project), f"{project}.settings", service]


def test_entrypoint_refuses_an_unknown_service():
    result = run_entrypoint("orders", "serve")

    assert result.returncode == 2
    assert "SERVICE must be users, products or gateway, not 'orders'" in result.stderr


# ---------------------------------------------------------------- broken on purpose


def test_a_root_user_and_an_ignored_copy_source_are_caught(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text().replace("USER ${APP_UID}:${APP_UID}", "USER root"))
    dockerignore = tmp_path / ".dockerignore"
    dockerignore.write_text(DOCKERIGNORE.read_text() + "gateway_project\n")
    for source in ("requirements", "libs", "deploy", "user_project", "product_project", "gateway_project"):
        (tmp_path / source).symlink_to(ROOT / source)

    problems = checks.dockerfile_problems(dockerfile, dockerignore)

    assert problems == [
        "the image must not run as root (last USER is 'root')",
        "COPY gateway_project: .dockerignore leaves it out of the build context",
    ]


def test_scripts_the_image_runs_are_executable():
    for script in (ENTRYPOINT, ROOT / "deploy/docker/collectstatic.sh"):
        assert os.access(script, os.X_OK), script


def test_build_time_collectstatic_works_with_only_the_dockerfiles_environment(tmp_path: Path):
    """A setting without a default breaks `docker build` unless collectstatic.sh provides a throwaway value."""
    static_root = tmp_path / "static"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_HOME": str(ROOT),
        "DJANGO_STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": "0.0.0.0:8000",
    }

    result = subprocess.run(
        [str(ROOT / "deploy/docker/collectstatic.sh")], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (static_root / "admin" / "css" / "base.css").is_file()
    assert (static_root / "rest_framework").is_dir()
