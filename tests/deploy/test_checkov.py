"""checkov over the kustomize render, the Compose services and the Dockerfile: no finding but the justified
skips of deploy/checkov-skips.yaml, and no skip that has outlived its finding."""

import os
from collections import Counter
from pathlib import Path

import deploy_checks as checks
import pytest
from deploy_checks import COMPOSE_FILE


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> dict:
    if checks.checkov_binary() is None:
        message = "checkov is not installed: ./manage_all.sh test installs it in .venv-checkov"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    render = checks.kubectl_kustomize()
    if render is None:
        pytest.skip("kubectl is not installed")
    return checks.checkov_scan(
        tmp_path_factory.mktemp("checkov"), k8s_render=render, compose=checks.merge_compose(COMPOSE_FILE)
    )


@pytest.fixture(scope="module")
def skips() -> dict[str, dict[str, str]]:
    return checks.checkov_skips()


@pytest.mark.parametrize("target", checks.CHECKOV_TARGETS)
def test_checkov_finds_nothing_but_the_justified_skips(scan, skips, target):
    unexpected = sorted(
        f"{finding.check_id} {finding.resource}"
        for finding in scan[target]["failed"]
        if finding.check_id not in skips[target]
    )

    assert scan[target]["passed"] > 100
    assert unexpected == []


@pytest.mark.parametrize("target", checks.CHECKOV_TARGETS)
def test_every_skip_still_matches_a_finding(scan, skips, target):
    found = Counter(finding.check_id for finding in scan[target]["failed"])

    assert [check for check in skips[target] if not found[check]] == []


def test_every_skip_gives_its_reason():
    for target, entries in checks.checkov_skips().items():
        for check, reason in entries.items():
            assert check.startswith(("CKV_", "CKV2_")), (target, check)
            assert isinstance(reason, str) and len(reason.split()) >= 10, (target, check)


# ---------------------------------------------------------------- broken on purpose


def test_a_floating_image_in_a_manifest_is_a_new_finding(tmp_path: Path, skips):
    render = checks.kubectl_kustomize()
    for resource in render:
        if resource["kind"] == "StatefulSet" and resource["metadata"]["name"] == "redis":
            resource["spec"]["template"]["spec"]["containers"][0]["image"] = "redis:latest"

    scan = checks.checkov_scan(tmp_path, k8s_render=render, compose=checks.merge_compose(COMPOSE_FILE))
    new = {(finding.check_id, finding.resource) for finding in scan["kubernetes"]["failed"]} - {
        (finding.check_id, finding.resource)
        for finding in scan["kubernetes"]["failed"]
        if finding.check_id in skips["kubernetes"]
    }

    assert ("CKV_K8S_14", "StatefulSet.scaling.redis") in new
    assert ("CKV_K8S_43", "StatefulSet.scaling.redis") in new
