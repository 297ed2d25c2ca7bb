"""Releases by digest: no image floats, and two releases render and apply one after the other, with no manual step.

`kubectl apply --dry-run=client` needs the API server's discovery even in client mode, so it cannot run here;
what would make the second apply fail is an immutable field that changed on an existing object, which
immutable_field_conflicts() checks between the two renders (`kubectl apply --dry-run=server` on a real
cluster, docs/deploy.md, checks the same).
"""

import re
from pathlib import Path

import deploy_checks as checks
import pytest
import yaml
from deploy_checks import COMPOSE_FILE, DOCKERFILE

TIERS = ("users", "products", "gateway")
RELEASE_1 = "registry.example.com/scaling-app:1.4.0@sha256:" + "a1" * 32
RELEASE_2 = "registry.example.com/scaling-app:1.5.0@sha256:" + "b2" * 32


@pytest.fixture(autouse=True)
def needs_kubectl():
    if checks.kubectl_kustomize() is None:
        pytest.skip("kubectl is not installed")


def release(k8s_copy: Path, reference: str) -> list[dict]:
    checks.set_release_image(k8s_copy, reference)
    return checks.kubectl_kustomize(k8s_copy)


def jobs(render: list[dict]) -> dict[str, dict]:
    return checks.by_kind(render, "Job")


def test_no_image_of_the_rendered_manifests_floats():
    found = checks.images(checks.kubectl_kustomize())

    assert {where: image for where, image in found.items() if not checks.PINNED_IMAGE.fullmatch(image)} == {}
    assert not [image for image in found.values() if ":latest" in image]


def test_third_party_images_are_the_same_pinned_builds_in_compose_and_kubernetes():
    services = checks.merge_compose(COMPOSE_FILE)["services"]
    compose = {name: services[name]["image"] for name in ("postgres", "redis", "haproxy")}
    k8s = {
        where.split()[0].split("/")[1]: image
        for where, image in checks.images(checks.kubectl_kustomize()).items()
        if not image.startswith("registry.example.com/")
    }

    assert k8s == compose
    assert all(checks.PINNED_IMAGE.fullmatch(image) for image in compose.values())


def test_the_dockerfile_builds_from_a_pinned_python():
    arguments = dict(
        argument.split("=", 1)
        for keyword, argument in checks.dockerfile_instructions(DOCKERFILE)
        if keyword == "ARG" and "=" in argument
    )

    assert checks.PINNED_IMAGE.fullmatch(arguments["PYTHON_IMAGE"])
    assert arguments["PYTHON_IMAGE"].startswith("python:3.11.")


def test_the_committed_app_image_is_a_placeholder_by_tag_and_digest_that_a_release_replaces():
    (entry,) = [image for image in checks.kustomization()["images"] if image["name"] == "scaling-app"]

    assert entry == {
        "name": "scaling-app",
        "newName": "registry.example.com/scaling-app",
        "newTag": "unreleased",
        "digest": "sha256:" + "0" * 64,
    }


def test_the_release_command_sets_tag_and_digest_on_every_app_container_and_in_the_config(k8s_copy: Path):
    render = release(k8s_copy, RELEASE_1)
    config = next(
        resource["data"]
        for resource in render
        if resource["kind"] == "ConfigMap"
        and re.fullmatch(r"scaling-config-[a-z0-9]{10}", resource["metadata"]["name"])
    )
    app_images = {where: image for where, image in checks.images(render).items() if "scaling-app" in image}

    assert len(app_images) == 9  # 3 Deployments x (await-migrations, app) + 3 migration Jobs
    assert set(app_images.values()) == {RELEASE_1}
    assert config["APP_IMAGE"] == RELEASE_1 and config["APP_RELEASE"] == "1.4.0"
    for tier in TIERS:
        labels = checks.by_kind(render, "Deployment")[tier]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/version"] == "1.4.0"


def test_two_successive_releases_render_valid_and_apply_over_each_other(k8s_copy: Path):
    first = release(k8s_copy, RELEASE_1)
    second = release(k8s_copy, RELEASE_2)

    assert sorted(jobs(first)) == [f"{tier}-migrate-1.4.0" for tier in sorted(TIERS)]
    assert sorted(jobs(second)) == [f"{tier}-migrate-1.5.0" for tier in sorted(TIERS)]
    assert checks.k8s_schema_problems(first) == [] and checks.k8s_schema_problems(second) == []
    assert checks.immutable_field_conflicts(first, second) == []
    # A rollback is the same apply the other way round.
    assert checks.immutable_field_conflicts(second, first) == []


def test_re_applying_a_release_changes_no_job(k8s_copy: Path):
    first = release(k8s_copy, RELEASE_1)
    again = release(k8s_copy, RELEASE_1)

    assert jobs(first) == jobs(again)


def test_a_change_to_config_env_alone_rolls_the_pods_and_leaves_the_jobs_as_they_are(k8s_copy: Path):
    before = release(k8s_copy, RELEASE_1)
    config = k8s_copy / "config.env"
    config.write_text(config.read_text().replace("LOG_LEVEL=INFO", "LOG_LEVEL=DEBUG"))
    after = checks.kubectl_kustomize(k8s_copy)

    assert jobs(after) == jobs(before)
    assert checks.immutable_field_conflicts(before, after) == []
    for tier in TIERS:
        old, new = (checks.by_kind(render, "Deployment")[tier]["spec"]["template"] for render in (before, after))
        assert old != new, f"{tier}: a new scaling-config hash must roll the pods"


# ---------------------------------------------------------------- broken on purpose


def test_migration_jobs_of_a_fixed_name_would_fail_the_next_release(k8s_copy: Path):
    kustomization = yaml.safe_load((k8s_copy / "kustomization.yaml").read_text())
    for replacement in kustomization["replacements"]:
        replacement["targets"] = [target for target in replacement["targets"] if target["select"].get("kind") != "Job"]
    (k8s_copy / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))

    conflicts = checks.immutable_field_conflicts(release(k8s_copy, RELEASE_1), release(k8s_copy, RELEASE_2))

    assert conflicts == [f"Job/{tier}-migrate: spec.template is immutable" for tier in ("gateway", "products", "users")]


def test_a_floating_tag_is_not_a_pinned_image():
    for image in (
        "redis:7-bookworm",
        "haproxy:2.6",
        "scaling-app",
        "scaling-app:latest",
        "postgres@sha256:" + "0" * 64,
    ):
        assert not checks.PINNED_IMAGE.fullmatch(image), image
    assert re.fullmatch(checks.PINNED_IMAGE, RELEASE_1)
