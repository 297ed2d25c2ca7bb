"""The deploy suite: static checks of the Dockerfile, Compose, Kubernetes and HAProxy files; no Django settings."""

import shutil
from pathlib import Path

import pytest
from deploy_checks import COMPOSE_DIR, K8S_DIR


@pytest.fixture
def compose_copy(tmp_path: Path) -> Path:
    """A throwaway copy of compose/, to break on purpose."""
    target = tmp_path / "compose"
    shutil.copytree(COMPOSE_DIR, target)
    return target


@pytest.fixture
def k8s_copy(tmp_path: Path) -> Path:
    """A throwaway copy of deploy/k8s/, to break on purpose."""
    target = tmp_path / "k8s"
    shutil.copytree(K8S_DIR, target)
    return target
