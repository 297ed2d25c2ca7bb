"""Every environment variable the settings read is set in compose and in Kubernetes, under the same names."""

import re
from pathlib import Path

import deploy_checks as checks
from deploy_checks import PROJECTS, ROOT


def test_discovery_finds_the_variables_each_settings_module_reads():
    users, users_problems = checks.required_env("users")
    gateway, gateway_problems = checks.required_env("gateway")

    assert users_problems == [] and gateway_problems == []
    for name in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "CACHE_TTL", "GUNICORN_BIND"):
        assert name in users and name in gateway
    assert "USERS_SERVICE_URL" in gateway and "UPSTREAM_POOL_SIZE" in gateway
    assert "USERS_SERVICE_URL" not in users
    assert users["DJANGO_SECRET_KEY"].path == ROOT / "libs/svc_common/src/svc_common/conf.py"
    assert users["DJANGO_SECRET_KEY"].has_default is False


def test_discovery_reads_every_env_call_shape(tmp_path: Path):
    module = tmp_path / "settings.py"
    module.write_text(
        "import os\n"
        "A = env.str('A_STR', default='x')\n"
        "B = env.bool('B_BOOL')\n"
        "C = env.db_url('C_DB', 'sqlite://')\n"
        "D = env('D_CALL', cast=int, default=1)\n"
        "E = os.environ.get('E_GET')\n"
        "F = os.environ['F_ITEM']\n"
        "G = os.getenv('G_GETENV', '1')\n"
        "H = env.path('H_PATH', default='/tmp')\n"
    )

    reads, problems = checks.env_reads(module)

    assert problems == []
    assert {(read.name, read.has_default) for read in reads} == {
        ("A_STR", True), ("B_BOOL", False), ("C_DB", True), ("D_CALL", True),
        ("E_GET", True), ("F_ITEM", False), ("G_GETENV", True), ("H_PATH", True),
    }  # fmt: skip


def test_a_computed_variable_name_is_reported_instead_of_skipped(tmp_path: Path):
    module = tmp_path / "settings.py"
    module.write_text("PREFIX = 'X'\nVALUE = env.str(f'{PREFIX}_URL')\n")

    _reads, problems = checks.env_reads(module)

    assert len(problems) == 1 and "not a string literal" in problems[0]


def test_compose_sets_every_variable_for_every_app_container():
    assert checks.compose_env_problems() == []


def test_kubernetes_sets_every_variable_for_every_app_container():
    assert checks.k8s_env_problems() == []


def test_compose_and_kubernetes_give_each_tier_the_same_variable_names():
    compose = checks.merge_compose(checks.COMPOSE_FILE)
    resources = checks.k8s_resources()
    secret = checks.secret_template()
    k8s_names: dict[str, set[str]] = {}
    for workload, container in checks.app_containers(resources):
        tier = next(entry["value"] for entry in container["env"] if entry["name"] == "SERVICE")
        names = checks.container_env_names(container, resources, secret)[0] - checks.SET_BY_KUSTOMIZE
        assert k8s_names.setdefault(tier, names) == names, f"{workload} container {container['name']}"
    for name, service in checks.compose_app_services(compose).items():
        env, _ = checks.compose_environment(service, checks.COMPOSE_DIR)
        compose_names = set(env) - checks.DATABASE_SERVER_ONLY
        assert compose_names == k8s_names[env["SERVICE"]], name


def new_problems(before: list[str], after: list[str]) -> list[str]:
    """What breaking a copy added: the checks of the real files are the other tests' business."""

    def key(problem: str) -> str:
        return re.sub(r" \(read at [^)]*\)", "", problem)

    seen = {key(problem) for problem in before}
    return [problem for problem in after if key(problem) not in seen]


def test_a_variable_missing_from_env_example_is_caught(compose_copy: Path):
    before = checks.compose_env_problems(compose_copy / "docker-compose.yml")
    env_file = compose_copy / ".env.example"
    env_file.write_text(
        "\n".join(line for line in env_file.read_text().splitlines() if not line.startswith("CACHE_TTL="))
    )

    problems = new_problems(before, checks.compose_env_problems(compose_copy / "docker-compose.yml"))

    assert problems and all("CACHE_TTL" in problem for problem in problems)
    assert {problem.split(":")[0] for problem in problems} == {
        f"compose service {name}" for name in ("users", "products", "gateway", *(f"{t}-migrate" for t in PROJECTS))
    }


def test_a_variable_missing_from_the_configmap_is_caught(k8s_copy: Path):
    before = checks.k8s_env_problems(k8s_copy)
    env_file = k8s_copy / "config.env"
    env_file.write_text(
        "\n".join(line for line in env_file.read_text().splitlines() if not line.startswith("USERS_SERVICE_URL="))
    )

    problems = new_problems(before, checks.k8s_env_problems(k8s_copy))

    assert problems and all("USERS_SERVICE_URL" in problem for problem in problems)
    assert {problem.split(" container")[0] for problem in problems} == {"Deployment/gateway", "Job/gateway-migrate"}


def test_a_secret_key_missing_from_the_secret_template_is_caught(k8s_copy: Path):
    before = checks.k8s_env_problems(k8s_copy)
    template = k8s_copy / "secret.example.yaml"
    template.write_text(template.read_text().replace("  gateway-redis-url:", "  gateway-redis-address:"))

    problems = new_problems(before, checks.k8s_env_problems(k8s_copy))

    assert problems and all("secret scaling-secrets/gateway-redis-url" in problem for problem in problems)


def test_a_setting_added_later_is_caught_in_compose_and_kubernetes(tmp_path: Path):
    settings = tmp_path / "settings.py"
    settings.write_text(
        (ROOT / "product_project/product_project/settings.py").read_text()
        + '\nFEATURE_FLAGS = env.list("FEATURE_FLAGS", default=[])\n'
    )
    sources = {"products": [settings, *checks.settings_sources("product_project")[1:]]}

    compose_problems = new_problems(checks.compose_env_problems(), checks.compose_env_problems(sources=sources))
    k8s_problems = new_problems(checks.k8s_env_problems(), checks.k8s_env_problems(sources=sources))

    assert compose_problems and all("FEATURE_FLAGS" in problem for problem in compose_problems)
    assert {problem.split(":")[0] for problem in compose_problems} == {
        "compose service products",
        "compose service products-migrate",
    }
    assert k8s_problems and all("FEATURE_FLAGS" in problem for problem in k8s_problems)
    assert {problem.split(" container")[0] for problem in k8s_problems} == {
        "Deployment/products",
        "Job/products-migrate",
    }
