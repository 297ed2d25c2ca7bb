"""deploy/k8s/networkpolicy.yaml admits only what must connect: the connections its policies open, computed from
the manifests (network_policies.py), are exactly the stack's paths."""

from pathlib import Path

import deploy_checks as checks
import pytest
import yaml
from network_policies import open_connections

APPLICATIONS = ("gateway", "users", "products")
MIGRATIONS = tuple(f"{tier}-migrate" for tier in APPLICATIONS)
EVERY_POD = (*APPLICATIONS, *MIGRATIONS, "haproxy", "redis", "postgres")
EXPECTED = {
    # Clients reach the gateway frontend only.
    ("edge", "haproxy", "TCP/8000"),
    # HAProxy to the replicas it balances.
    *{("haproxy", tier, "TCP/8000") for tier in APPLICATIONS},
    # The gateway to the service frontends and the stats (its status page).
    *{("gateway", "haproxy", f"TCP/{port}") for port in (8001, 8002, 8404)},
    # The applications and their migrations to the data stores.
    *{(app, store, port) for app in (*APPLICATIONS, *MIGRATIONS) for store, port in (("redis", "TCP/6379"), ("postgres", "TCP/5432"))},
    # Every pod to the cluster DNS.
    *{(pod, "kube-dns", protocol) for pod in EVERY_POD for protocol in ("UDP/53", "TCP/53")},
}  # fmt: skip


def test_the_policies_open_exactly_the_stacks_connections():
    opened = open_connections(checks.k8s_resources())

    assert sorted(opened - EXPECTED) == [], "connections nothing needs"
    assert sorted(EXPECTED - opened) == [], "connections the stack needs"


@pytest.mark.parametrize(
    "attack",
    [
        ("edge", "users", "TCP/8000"),  # a client past HAProxy, to forge X-Forwarded-For
        ("edge", "haproxy", "TCP/8001"),  # a client at a service frontend
        ("edge", "redis", "TCP/6379"),  # a client minting a token record
        ("users", "haproxy", "TCP/8404"),
        ("products", "gateway", "TCP/8000"),  # a compromised service past HAProxy
        ("haproxy", "redis", "TCP/6379"),
        ("haproxy", "postgres", "TCP/5432"),
        ("redis", "postgres", "TCP/5432"),
    ],
)
def test_a_path_nothing_needs_is_closed(attack):
    assert attack not in open_connections(checks.k8s_resources())


def test_the_policies_are_listed_in_the_kustomization():
    assert "networkpolicy.yaml" in checks.kustomization()["resources"]


# ---------------------------------------------------------------- broken on purpose


def _add_debug_pod(k8s_dir: Path) -> None:
    """A workload added later, with no policy of its own (an operator's debugging pod)."""
    debug = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "debug"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "debug"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "debug"}},
                "spec": {"containers": [{"name": "debug", "image": "busybox", "ports": [{"containerPort": 8080}]}]},
            },
        },
    }
    (k8s_dir / "debug.yaml").write_text(yaml.safe_dump(debug))
    kustomization = k8s_dir / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("  - networkpolicy.yaml\n", "  - networkpolicy.yaml\n  - debug.yaml\n")
    )


def test_the_default_deny_closes_a_pod_added_later(k8s_copy: Path):
    _add_debug_pod(k8s_copy)

    opened = open_connections(checks.k8s_resources(k8s_copy))

    assert not {connection for connection in opened if "debug" in connection[:2] and connection[1] != "kube-dns"}


def test_without_the_default_deny_a_pod_added_later_is_open_to_anyone(k8s_copy: Path):
    _add_debug_pod(k8s_copy)
    manifest = k8s_copy / "networkpolicy.yaml"
    documents = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc["metadata"]["name"] != "default-deny"]
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    opened = open_connections(checks.k8s_resources(k8s_copy))

    assert ("edge", "debug", "TCP/8080") in opened


def test_a_policy_that_admits_anyone_to_redis_is_caught(k8s_copy: Path):
    manifest = k8s_copy / "networkpolicy.yaml"
    documents = list(yaml.safe_load_all(manifest.read_text()))
    for document in documents:
        if document["metadata"]["name"] == "redis":
            document["spec"]["ingress"][0].pop("from")
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    opened = open_connections(checks.k8s_resources(k8s_copy))

    assert ("edge", "redis", "TCP/6379") in opened
    assert ("haproxy", "redis", "TCP/6379") not in opened  # HAProxy's own egress still stops it
