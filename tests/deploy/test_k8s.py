"""deploy/k8s/: valid Kubernetes objects that keep the promises docs/deploy.md makes about them."""

import re
from pathlib import Path

import deploy_checks as checks
import pytest
import yaml
from deploy_checks import COMPOSE_DIR, COMPOSE_FILE

TIERS = ("users", "products", "gateway")


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return checks.k8s_resources()


@pytest.fixture(scope="module")
def config(resources) -> dict:
    return checks.by_kind(resources, "ConfigMap")["scaling-config"]["data"]


def test_every_manifest_the_namespace_and_the_secret_template_are_valid_kubernetes_objects(resources):
    namespace = checks.load_yaml(checks.K8S_DIR / "namespace.yaml")

    assert checks.k8s_schema_problems([*resources, namespace, checks.secret_template()]) == []


def test_the_kustomize_build_is_valid_and_complete():
    built = checks.kubectl_kustomize()
    if built is None:
        pytest.skip("kubectl is not installed; the manifests themselves are validated above")

    kinds = {
        (kind, re.sub(r"-[a-z0-9]{10}$", "", name) if kind == "ConfigMap" else name)
        for kind, name in ((resource["kind"], resource["metadata"]["name"]) for resource in built)
    }

    assert checks.k8s_schema_problems(built) == []
    assert all(
        resource["metadata"].get("namespace") == "scaling" for resource in built if resource["kind"] != "Namespace"
    )
    assert {("Deployment", name) for name in (*TIERS, "haproxy")} <= kinds
    assert {
        ("StatefulSet", "postgres"),
        ("StatefulSet", "redis"),
        ("ConfigMap", "haproxy"),
        ("ConfigMap", "scaling-config"),
    } <= kinds
    assert {("Job", f"{tier}-migrate-unreleased") for tier in TIERS} <= kinds
    assert {("HorizontalPodAutoscaler", tier) for tier in TIERS} <= kinds
    assert {("PodDisruptionBudget", name) for name in (*TIERS, "haproxy")} <= kinds
    assert ("Secret", "scaling-secrets") not in kinds, "real secrets are created by hand, never from git"
    assert not [kind for kind, _name in kinds if kind == "Namespace"], "delete -k must never delete the namespace"


def test_haproxy_server_templates_and_upstream_urls_match_the_services_and_ports():
    assert checks.k8s_reference_problems() == []


@pytest.mark.parametrize("tier", TIERS)
def test_probes_use_readyz_and_healthz_with_an_allowed_host(tier, resources):
    container = checks.by_kind(resources, "Deployment")[tier]["spec"]["template"]["spec"]["containers"][0]

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
        http = container[probe]["httpGet"]
        assert http["path"] == path and http["port"] == "http"
        assert {"name": "Host", "value": "127.0.0.1"} in http["httpHeaders"]


@pytest.mark.parametrize("tier", TIERS)
def test_pods_drain_before_sigterm_and_outlast_gunicorns_graceful_timeout(tier, resources, config):
    spec = checks.by_kind(resources, "Deployment")[tier]["spec"]["template"]["spec"]
    command = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]

    assert command[0] == "sleep"
    assert spec["terminationGracePeriodSeconds"] > int(command[1]) + int(config["GUNICORN_GRACEFUL_TIMEOUT"])


@pytest.mark.parametrize("tier", TIERS)
def test_autoscaler_floor_matches_compose_and_ceiling_fits_haproxy_slots(tier, resources):
    hpa = checks.by_kind(resources, "HorizontalPodAutoscaler")[tier]["spec"]
    deployment = checks.by_kind(resources, "Deployment")[tier]["spec"]
    compose = checks.merge_compose(COMPOSE_FILE)
    slots = next(
        ref for ref in checks.haproxy_server_refs(checks.K8S_HAPROXY.read_text()) if ref.backend == f"be_{tier}"
    )

    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": tier}
    assert hpa["minReplicas"] == compose["services"][tier]["deploy"]["replicas"]
    assert hpa["maxReplicas"] <= int(slots.line.split()[2])
    assert "replicas" not in deployment, "the HPA owns the replica count; apply must not reset it"


@pytest.mark.parametrize("name", [*TIERS, "haproxy"])
def test_a_disruption_budget_covers_each_stateless_tier(name, resources):
    budget = checks.by_kind(resources, "PodDisruptionBudget")[name]["spec"]
    labels = checks.by_kind(resources, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]

    assert budget["maxUnavailable"] == 1
    assert all(labels.get(key) == value for key, value in budget["selector"]["matchLabels"].items())


@pytest.mark.parametrize("tier", TIERS)
def test_migrations_run_in_a_job_and_new_pods_wait_for_them(tier, resources):
    job = checks.by_kind(resources, "Job")[f"{tier}-migrate"]["spec"]
    deployment = checks.by_kind(resources, "Deployment")[tier]["spec"]
    init = deployment["template"]["spec"]["initContainers"]
    job_labels = job["template"]["metadata"]["labels"]

    assert job["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert [container["args"] for container in init] == [["await-migrations"]]
    # The Job's pods must not join the tier's Service or disruption budget.
    assert any(job_labels.get(key) != value for key, value in deployment["selector"]["matchLabels"].items())


def test_every_pod_meets_the_restricted_pod_security_standard(resources):
    for workload, spec in checks.pod_specs(resources).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, workload
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, workload
        assert spec["automountServiceAccountToken"] is False, workload
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (workload, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (workload, container["name"])
            assert context["capabilities"] == {"drop": ["ALL"]}, (workload, container["name"])
    namespace = checks.load_yaml(checks.K8S_DIR / "namespace.yaml")
    assert namespace["metadata"]["name"] == checks.kustomization()["namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_container_requests_cpu_and_memory_and_caps_memory(resources):
    for workload, spec in checks.pod_specs(resources).items():
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), (workload, container["name"])
            assert "memory" in container["resources"]["limits"], (workload, container["name"])


def test_haproxy_mounts_its_config_and_every_error_page(resources):
    config_map = checks.by_kind(resources, "ConfigMap")["haproxy"]["data"]
    volume = next(
        volume
        for volume in checks.by_kind(resources, "Deployment")["haproxy"]["spec"]["template"]["spec"]["volumes"]
        if volume["name"] == "config"
    )
    items = {item["key"]: item["path"] for item in volume["configMap"]["items"]}
    pages = {path.name for path in (checks.ROOT / "haproxy" / "errors").glob("*.http")}

    assert set(items) == set(config_map) == {"haproxy.cfg", *pages}
    assert all(items[page] == f"errors/{page}" for page in pages)


def test_the_secret_template_holds_placeholders_only_and_is_not_applied():
    template = checks.secret_template()["stringData"]
    listed = checks.kustomization()["resources"]

    assert "secret.example.yaml" not in listed
    for key in ("django-secret-key", "service-auth-token", "postgres-password"):
        assert template[key] == "REPLACE-ME"
    for tier in TIERS:
        assert ":REPLACE-ME@" in template[f"{tier}-database-url"]


def test_database_urls_in_the_secret_template_name_each_domains_database():
    from stackctl.config import SERVICES

    template = checks.secret_template()["stringData"]

    for tier in TIERS:
        assert template[f"{tier}-database-url"].rsplit("/", 1)[1] == SERVICES[tier].default_database


def test_postgres_init_script_is_the_same_as_in_compose(resources):
    init = checks.by_kind(resources, "ConfigMap")["postgres-initdb"]["data"]["10-create-databases.sh"]

    assert init == (COMPOSE_DIR / "postgres" / "10-create-databases.sh").read_text()


# ---------------------------------------------------------------- broken on purpose


def test_a_renamed_service_is_caught(k8s_copy: Path):
    manifest = k8s_copy / "products.yaml"
    documents = list(yaml.safe_load_all(manifest.read_text()))
    for document in documents:
        if document["kind"] == "Service":
            document["metadata"]["name"] = "product"
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    problems = checks.k8s_reference_problems(k8s_copy)

    assert problems == [
        "HAProxy be_products resolves Service 'products', which does not exist",
        "HAProxy be_products_live resolves Service 'products-live', which does not exist",
    ]


def test_a_wrong_container_port_is_caught(k8s_copy: Path):
    manifest = k8s_copy / "users.yaml"
    manifest.write_text(manifest.read_text().replace("containerPort: 8000", "containerPort: 8080"))

    problems = checks.k8s_reference_problems(k8s_copy)

    assert problems == [
        f"HAProxy {backend} connects to port 8000; Deployment/users listens on 8080 and GUNICORN_BIND says 8000"
        for backend in ("be_users", "be_users_live")
    ]


def test_a_namespace_changed_without_re_rendering_haproxy_is_caught(k8s_copy: Path):
    kustomization = k8s_copy / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("namespace: scaling", "namespace: shop"))

    problems = checks.k8s_reference_problems(k8s_copy)

    assert len(problems) == 6  # three tiers, each with its panic-routing twin
    assert all("resolves namespace 'scaling', kustomize uses 'shop'" in problem for problem in problems)


def test_an_invalid_field_fails_the_schema(k8s_copy: Path):
    manifest = k8s_copy / "gateway.yaml"
    manifest.write_text(manifest.read_text().replace("maxUnavailable: 1", "maxUnavailable: 1\n  maxUnavailabel: 2", 1))

    problems = checks.k8s_schema_problems(checks.k8s_resources(k8s_copy))

    assert len(problems) == 1 and problems[0].startswith("PodDisruptionBudget/gateway")
    assert "maxUnavailabel" in problems[0]


def test_postgres_liveness_waits_for_a_startup_probe_long_enough_for_crash_recovery(resources):
    container = checks.by_kind(resources, "StatefulSet")["postgres"]["spec"]["template"]["spec"]["containers"][0]
    startup = container["startupProbe"]

    assert "pg_isready" in startup["exec"]["command"][-1]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    assert "initialDelaySeconds" not in container["livenessProbe"]


def test_the_database_wait_ends_well_inside_the_startup_budget(resources, config):
    for tier in TIERS:
        startup = checks.by_kind(resources, "Deployment")[tier]["spec"]["template"]["spec"]["containers"][0][
            "startupProbe"
        ]
        budget = startup["periodSeconds"] * startup["failureThreshold"]
        # gunicorn needs some seconds after the wait to import Django and answer /healthz.
        assert int(config["DB_WAIT_TIMEOUT"]) + 30 <= budget, tier


def test_autoscalers_scale_on_cpu_and_memory(resources):
    for tier in TIERS:
        metrics = checks.by_kind(resources, "HorizontalPodAutoscaler")[tier]["spec"]["metrics"]
        assert {metric["resource"]["name"] for metric in metrics} == {"cpu", "memory"}, tier


def test_the_namespace_and_the_secret_stay_outside_the_app_kustomization(resources):
    listed = checks.kustomization()["resources"]

    assert "namespace.yaml" not in listed and "secret.example.yaml" not in listed
    assert not [resource for resource in resources if resource["kind"] in ("Namespace", "Secret")]
    assert checks.by_kind(resources, "StatefulSet")["postgres"]["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }


def test_each_service_connects_to_postgresql_as_its_own_role():
    template = checks.secret_template()["stringData"]

    for tier in TIERS:
        assert template[f"{tier}-database-url"].startswith(f"postgres://{tier}_app:REPLACE-ME@")
        assert template[f"{tier}-db-password"] == "REPLACE-ME"


def test_haproxy_believes_forwarded_headers_from_the_configured_edge_only(resources, config):
    container = checks.by_kind(resources, "Deployment")["haproxy"]["spec"]["template"]["spec"]["containers"][0]
    edge = next(entry for entry in container["env"] if entry["name"] == "HAPROXY_EDGE_NETWORKS")

    assert edge["valueFrom"]["configMapKeyRef"] == {"name": "scaling-config", "key": "HAPROXY_EDGE_NETWORKS"}
    assert config["HAPROXY_EDGE_NETWORKS"] == ""
    assert config["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://api.example.com"
