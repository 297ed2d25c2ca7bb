"""Capacity that adds up: one thread count and one gateway concurrency everywhere, HAProxy's maxconn as each
instance's share of them, and PostgreSQL connections under max_connections with every autoscaler at its maximum."""

import ast
from pathlib import Path

import deploy_checks as checks
import pytest
import yaml
from deploy_checks import COMPOSE_DIR, COMPOSE_HAPROXY, GUNICORN_CONFIG, K8S_DIR, K8S_HAPROXY, ROOT

from stackctl import config as stack_config
from stackctl import haproxy


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return checks.k8s_resources()


def server_maxconn(text: str, backend: str = "defaults") -> int:
    """The maxconn of the first default-server line in a section: a service's (defaults) or a backend's own."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.split()[:2] in ([backend], ["backend", backend]))
    line = next(line for line in lines[start:] if line.strip().startswith("default-server "))
    words = line.split()
    return int(words[words.index("maxconn") + 1])


def gateway_maxconns(text: str) -> list[int]:
    """The gateway's per-server maxconn, in its backend and in its panic-routing one."""
    return [server_maxconn(text, backend) for backend in ("be_gateway", "be_gateway_live")]


def code_default(path: Path, name: str) -> str:
    """The default of os.environ.get(name, default) or env.int(name, default=...) in a Python file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            if node.args[0].value != name:
                continue
            if len(node.args) > 1:
                return str(node.args[1].value)
            default = next((keyword.value for keyword in node.keywords if keyword.arg == "default"), None)
            if default is not None:
                return str(default.value)
    raise AssertionError(f"{path} has no default for {name}")


def haproxy_replicas(resources) -> int:
    return checks.by_kind(resources, "Deployment")["haproxy"]["spec"]["replicas"]


GATEWAY_SETTINGS = ROOT / "gateway_project" / "gateway_project" / "settings.py"


@pytest.mark.parametrize(
    ("name", "in_code"),
    [
        (
            "GUNICORN_THREADS",
            {
                "local (stackctl)": str(stack_config.DEFAULT_THREADS),
                "gunicorn.conf.py": code_default(GUNICORN_CONFIG, "GUNICORN_THREADS"),
                "gateway bridge": code_default(GATEWAY_SETTINGS, "GUNICORN_THREADS"),
            },
        ),
        (
            "GATEWAY_CONCURRENCY",
            {"local (stackctl)": str(stack_config.DEFAULT_GATEWAY_CONCURRENCY)},
        ),
    ],
)
def test_every_deployment_sets_the_same_capacity_per_replica(resources, name, in_code):
    kubernetes = checks.by_kind(resources, "ConfigMap")["scaling-config"]["data"][name]
    compose = checks.parse_env_file(COMPOSE_DIR / ".env.example")[name]

    assert {**in_code, "compose": compose, "kubernetes": kubernetes} == dict.fromkeys(
        [*in_code, "compose", "kubernetes"], {"GUNICORN_THREADS": "4", "GATEWAY_CONCURRENCY": "16"}[name]
    )


def test_a_gateway_keeps_an_upstream_connection_for_each_request_it_serves_at_once():
    assert int(code_default(GATEWAY_SETTINGS, "UPSTREAM_POOL_SIZE")) >= stack_config.DEFAULT_GATEWAY_CONCURRENCY


def test_haproxy_instances_together_never_send_a_gateway_more_requests_than_its_concurrency(resources, monkeypatch):
    concurrency = int(checks.by_kind(resources, "ConfigMap")["scaling-config"]["data"]["GATEWAY_CONCURRENCY"])
    monkeypatch.delenv("HAPROXY_SERVER_MAXCONN", raising=False)
    monkeypatch.setenv("GATEWAY_CONCURRENCY", str(concurrency))
    local = haproxy.render({"users": [1], "products": [1], "gateway": [1]})
    instances = haproxy_replicas(resources)

    assert [gateway_maxconns(text) for text in (local, COMPOSE_HAPROXY.read_text(), K8S_HAPROXY.read_text())] == [
        [concurrency, concurrency],
        [concurrency, concurrency],
        [concurrency // instances, concurrency // instances],
    ]
    assert concurrency // instances * instances <= concurrency


def test_the_overload_tests_override_holds_the_gateway_to_the_same_maxconn(monkeypatch):
    monkeypatch.setenv("HAPROXY_SERVER_MAXCONN", "1")
    local = haproxy.render({"users": [1], "products": [1], "gateway": [1]})

    assert server_maxconn(local) == 1
    assert gateway_maxconns(local) == [1, 1]


def test_haproxy_instances_together_never_send_a_replica_more_requests_than_it_has_threads(resources, monkeypatch):
    threads = int(checks.by_kind(resources, "ConfigMap")["scaling-config"]["data"]["GUNICORN_THREADS"])
    monkeypatch.delenv("HAPROXY_SERVER_MAXCONN", raising=False)
    monkeypatch.setenv("GUNICORN_THREADS", str(threads))
    local = haproxy.render({"users": [1], "products": [1], "gateway": [1]})

    assert server_maxconn(local) * 1 <= threads
    assert server_maxconn(COMPOSE_HAPROXY.read_text()) * 1 <= threads
    assert server_maxconn(K8S_HAPROXY.read_text()) * haproxy_replicas(resources) <= threads
    # And each takes its whole share: threads / instances, rounded down.
    assert [server_maxconn(text) for text in (local, COMPOSE_HAPROXY.read_text(), K8S_HAPROXY.read_text())] == [
        threads,
        threads,
        threads // haproxy_replicas(resources),
    ]


def test_postgresql_connections_stay_under_max_connections_at_the_autoscalers_maxima(resources):
    budget = checks.connection_budget(resources)

    # 3 tiers x (10 pods + 1 surge pod) x 1 worker x 4 threads, 3 migration Jobs x 2, 3 reserved, 5 for operators.
    assert budget.per_tier == {"users": 44, "products": 44, "gateway": 44}
    assert budget.migrations == 6
    assert budget.required == 146
    assert budget.required <= budget.max_connections == 160


def test_server_maxconn_is_the_share_of_threads_and_refuses_more_instances_than_threads():
    assert [haproxy.server_maxconn(4, instances) for instances in (1, 2, 3, 4)] == [4, 2, 1, 1]
    with pytest.raises(Exception, match="5 HAProxy instances cannot share 4 requests per replica"):
        haproxy.server_maxconn(4, 5)


# ---------------------------------------------------------------- broken on purpose


def test_raising_an_autoscalers_maximum_past_the_budget_is_caught(k8s_copy: Path):
    manifest = k8s_copy / "gateway.yaml"
    documents = list(yaml.safe_load_all(manifest.read_text()))
    for document in documents:
        if document["kind"] == "HorizontalPodAutoscaler":
            document["spec"]["maxReplicas"] = 14
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    budget = checks.connection_budget(checks.k8s_resources(k8s_copy))

    assert budget.per_tier["gateway"] == 60
    assert budget.required == 162 > budget.max_connections


def test_a_third_haproxy_pod_makes_the_rendered_config_stale(monkeypatch, tmp_path: Path):
    from test_haproxy_variants import load_render_script

    render_haproxy = load_render_script()
    manifest = tmp_path / "haproxy.yaml"
    manifest.write_text((K8S_DIR / "haproxy.yaml").read_text().replace("  replicas: 2\n", "  replicas: 3\n", 1))
    monkeypatch.setattr(render_haproxy, "K8S_HAPROXY_MANIFEST", manifest)

    assert K8S_HAPROXY in render_haproxy.stale_files()
    assert server_maxconn(render_haproxy.expected_files()[K8S_HAPROXY]) == 1
    assert gateway_maxconns(render_haproxy.expected_files()[K8S_HAPROXY]) == [5, 5]
