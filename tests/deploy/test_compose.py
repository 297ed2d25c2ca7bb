"""compose/: valid against the Compose specification, and every name and port in it points somewhere real."""

import json
import re
from pathlib import Path

import deploy_checks as checks
import pytest
import yaml
from deploy_checks import COMPOSE_DIR, COMPOSE_FILE, OBSERVABILITY_FILE


@pytest.fixture(scope="module")
def compose() -> dict:
    return checks.merge_compose(COMPOSE_FILE)


@pytest.mark.parametrize("path", [COMPOSE_FILE, OBSERVABILITY_FILE], ids=lambda path: path.name)
def test_compose_file_is_valid_against_the_compose_specification(path: Path):
    assert checks.compose_schema_problems(path) == []


def test_haproxy_servers_upstream_urls_and_dependencies_point_at_real_services_and_ports():
    assert checks.compose_reference_problems() == []


def test_replica_counts_are_three_users_three_products_two_gateways(compose: dict):
    replicas = {name: compose["services"][name]["deploy"]["replicas"] for name in ("users", "products", "gateway")}

    assert replicas == {"users": 3, "products": 3, "gateway": 2}


def test_replicas_wait_for_their_one_shot_migration_and_healthy_data_stores(compose: dict):
    for tier in ("users", "products", "gateway"):
        depends = compose["services"][tier]["depends_on"]
        assert depends[f"{tier}-migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
        migrate = compose["services"][f"{tier}-migrate"]
        assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert compose["services"]["gateway"]["depends_on"]["haproxy"] == {"condition": "service_healthy"}
    assert "depends_on" not in compose["services"]["haproxy"], "HAProxy must start before any replica exists"


def test_every_long_running_service_has_a_health_check(compose: dict):
    for name, service in compose["services"].items():
        if name.endswith("-migrate"):
            continue
        assert service.get("healthcheck", {}).get("test"), name


def test_replicas_outlast_gunicorns_graceful_timeout_when_stopped(compose: dict):
    env, _ = checks.compose_environment(compose["services"]["users"], COMPOSE_DIR)
    graceful = int(env["GUNICORN_GRACEFUL_TIMEOUT"])

    for tier in ("users", "products", "gateway"):
        assert checks.parse_duration(compose["services"][tier]["stop_grace_period"]) > graceful


def test_database_urls_name_each_domains_own_database(compose: dict):
    from stackctl.config import SERVICES

    for name, service in checks.compose_app_services(compose).items():
        env, _ = checks.compose_environment(service, COMPOSE_DIR)
        assert env["DATABASE_URL"].rsplit("/", 1)[1] == SERVICES[env["SERVICE"]].default_database, name


def test_postgres_init_script_creates_every_domain_database(compose: dict):
    from stackctl.config import SERVICES

    script = (COMPOSE_DIR / "postgres" / "10-create-databases.sh").read_text()
    mounts = compose["services"]["postgres"]["volumes"]

    assert set(re.findall(r"^create_domain \w+ (\w+) ", script, re.MULTILINE)) == {
        service.default_database for service in SERVICES.values()
    }
    assert any(mount.endswith(":/docker-entrypoint-initdb.d/10-create-databases.sh:ro") for mount in mounts)


def test_the_services_trust_forwarded_headers_from_haproxys_fixed_address_only(compose: dict):
    env, _ = checks.compose_environment(compose["services"]["gateway"], COMPOSE_DIR)
    address = compose["services"]["haproxy"]["networks"]["backend"]["ipv4_address"]

    assert env["TRUSTED_PROXIES"] == address


def test_env_example_secrets_are_long_enough_for_the_settings_check():
    env = checks.parse_env_file(COMPOSE_DIR / ".env.example")

    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    assert env["DJANGO_DEBUG"] == "false"


def test_prometheus_scrapes_haproxy_and_every_replica_of_every_tier(compose: dict):
    config = yaml.safe_load((COMPOSE_DIR / "observability/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    haproxy_text = checks.COMPOSE_HAPROXY.read_text()

    assert jobs["haproxy"]["static_configs"][0]["targets"] == [
        f"haproxy:{checks.haproxy_frontend_ports(haproxy_text)['stats']}"
    ]
    for tier in ("users", "products", "gateway"):
        discovery = jobs[tier]["dns_sd_configs"][0]
        assert discovery["names"] == [tier] and discovery["type"] == "A" and discovery["port"] == 8000
        assert tier in compose["services"]


def test_grafana_dashboard_uses_the_provisioned_datasource_in_every_panel():
    datasources = yaml.safe_load(
        (COMPOSE_DIR / "observability/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    dashboard = json.loads((COMPOSE_DIR / "observability/grafana/dashboards/scaling.json").read_text())
    uid = datasources["datasources"][0]["uid"]
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    expressions = checks.dashboard_exprs(COMPOSE_DIR / "observability/grafana/dashboards/scaling.json")

    assert panels and all(panel["datasource"]["uid"] == uid and panel["targets"] for panel in panels)
    assert any("haproxy_backend_http_responses_total" in expr for expr in expressions)
    assert any("haproxy_backend_current_queue" in expr for expr in expressions)
    assert any("django_http_requests_total" in expr for expr in expressions)


def test_observability_overlay_joins_the_stack_network():
    merged = checks.merge_compose(COMPOSE_FILE, OBSERVABILITY_FILE)

    assert list(merged["services"]["prometheus"]["networks"]) == ["backend"]
    assert merged["services"]["grafana"]["networks"] == ["backend"]
    for name in ("prometheus", "grafana"):
        assert all(target in merged["services"] for target in merged["services"][name]["depends_on"])


def test_only_prometheus_may_scrape_the_replicas(compose: dict):
    merged = checks.merge_compose(COMPOSE_FILE, OBSERVABILITY_FILE)
    env, _ = checks.compose_environment(compose["services"]["users"], COMPOSE_DIR)
    prometheus = merged["services"]["prometheus"]["networks"]["backend"]["ipv4_address"]

    assert env["METRICS_ALLOWED_NETWORKS"].split(",") == ["127.0.0.0/8", "::1/128", f"{prometheus}/32"]


# ---------------------------------------------------------------- broken on purpose


def test_a_renamed_service_is_caught(compose_copy: Path):
    path = compose_copy / "docker-compose.yml"
    path.write_text(re.sub(r"^  users:$", "  user:", path.read_text(), flags=re.MULTILINE))

    problems = checks.compose_reference_problems(path, compose_copy / "haproxy" / "haproxy.cfg")

    assert "HAProxy be_users resolves 'users', which is not a compose service" in problems
    assert "compose service gateway depends on 'users', which does not exist" in problems


def test_a_wrong_replica_port_in_haproxy_is_caught(compose_copy: Path):
    config = compose_copy / "haproxy" / "haproxy.cfg"
    config.write_text(config.read_text().replace(" products:8000 ", " products:8080 "))

    problems = checks.compose_reference_problems(compose_copy / "docker-compose.yml", config)

    assert problems == [
        f"HAProxy {backend} uses port 8080 of 'products', whose gunicorn binds 8000"
        for backend in ("be_products", "be_products_live")
    ]


def test_a_wrong_upstream_port_for_the_gateway_is_caught(compose_copy: Path):
    env_file = compose_copy / ".env.example"
    env_file.write_text(
        env_file.read_text().replace("USERS_SERVICE_URL=http://haproxy:8001", "USERS_SERVICE_URL=http://haproxy:9001")
    )

    problems = checks.compose_reference_problems(
        compose_copy / "docker-compose.yml", compose_copy / "haproxy" / "haproxy.cfg"
    )

    assert {problem.split(":")[0] for problem in problems} == {
        "compose service gateway",
        "compose service gateway-migrate",
    }
    assert all(
        "USERS_SERVICE_URL uses port 9001, but HAProxy serves be_users on 8001" in problem for problem in problems
    )


def test_an_upstream_url_that_skips_haproxy_is_caught(compose_copy: Path):
    env_file = compose_copy / ".env.example"
    env_file.write_text(
        env_file.read_text().replace(
            "PRODUCTS_SERVICE_URL=http://haproxy:8002", "PRODUCTS_SERVICE_URL=http://products:8000"
        )
    )

    problems = checks.compose_reference_problems(
        compose_copy / "docker-compose.yml", compose_copy / "haproxy" / "haproxy.cfg"
    )

    assert problems and all("PRODUCTS_SERVICE_URL must go through HAProxy" in problem for problem in problems)


def test_an_unknown_key_fails_the_schema(compose_copy: Path):
    path = compose_copy / "docker-compose.yml"
    path.write_text(path.read_text().replace("      replicas: 3\n", "      replica: 3\n", 1))

    problems = checks.compose_schema_problems(path)

    assert problems == [
        "docker-compose.yml: $.services.users.deploy: 'replica' does not match any of the regexes: '^x-'"
    ]


def test_replicas_are_healthy_when_ready_and_start_before_the_database_wait_ends(compose: dict):
    env, _ = checks.compose_environment(compose["services"]["users"], COMPOSE_DIR)

    for tier in ("users", "products", "gateway"):
        healthcheck = compose["services"][tier]["healthcheck"]
        assert healthcheck["test"] == ["CMD", "python", "/app/deploy/docker/healthcheck.py", "/readyz"]
        assert checks.parse_duration(healthcheck["start_period"]) > int(env["DB_WAIT_TIMEOUT"])


def test_fixed_addresses_sit_outside_the_pool_docker_allocates_from():
    import ipaddress

    merged = checks.merge_compose(COMPOSE_FILE, OBSERVABILITY_FILE)
    (pool,) = merged["networks"]["backend"]["ipam"]["config"]
    subnet, dynamic = ipaddress.ip_network(pool["subnet"]), ipaddress.ip_network(pool["ip_range"])
    fixed = [
        ipaddress.ip_address(service["networks"]["backend"]["ipv4_address"])
        for service in merged["services"].values()
        if isinstance(service.get("networks"), dict) and "ipv4_address" in (service["networks"].get("backend") or {})
    ]

    assert dynamic.subnet_of(subnet)
    assert len(fixed) == 2 and all(address in subnet and address not in dynamic for address in fixed)


def test_each_service_connects_to_postgresql_as_its_own_role(compose: dict):
    for name, service in checks.compose_app_services(compose).items():
        env, _ = checks.compose_environment(service, COMPOSE_DIR)
        tier = env["SERVICE"]
        assert env["DATABASE_URL"].startswith(f"postgres://{tier}_app:${{{tier.upper()}_DB_PASSWORD}}@"), name
    postgres = compose["services"]["postgres"]["environment"]
    assert {"USERS_DB_PASSWORD", "PRODUCTS_DB_PASSWORD", "GATEWAY_DB_PASSWORD"} <= set(postgres)


def test_no_app_container_gets_a_raw_password_only_its_own_inside_its_urls(compose: dict):
    """.env holds every password and every app container reads it; `environment` wins over `env_file`."""
    passwords = {name for name in checks.parse_env_file(COMPOSE_DIR / ".env.example") if name.endswith("_PASSWORD")}
    assert len(passwords) == 7
    for name, service in checks.compose_app_services(compose).items():
        environment = service["environment"]
        assert {key: environment.get(key) for key in passwords} == dict.fromkeys(passwords, ""), name
        tier = environment["SERVICE"].upper()
        used = re.findall(r"\$\{(\w+_PASSWORD)\}", environment["DATABASE_URL"] + environment["REDIS_URL"])
        assert used == [f"{tier}_DB_PASSWORD", f"REDIS_{tier}_PASSWORD"], name


def test_every_container_runs_as_a_non_root_user_above_10000(compose: dict):
    for name, service in compose["services"].items():
        uid = int(str(service["user"]).split(":")[0])
        assert uid >= 10000, name
