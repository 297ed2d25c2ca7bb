"""One template, three variants: local (explicit servers), compose and Kubernetes (server-template + DNS)."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import deploy_checks as checks
import pytest
from deploy_checks import COMPOSE_DIR, COMPOSE_HAPROXY, K8S_HAPROXY, ROOT

from stackctl import haproxy

TUNING_VARIABLES = (
    "HAPROXY_MAXCONN",
    "HAPROXY_QUEUE_TIMEOUT",
    "HAPROXY_SERVER_MAXCONN",
    "HAPROXY_SERVER_MAXQUEUE",
    "HAPROXY_SERVER_TIMEOUT",
)


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch):
    """The local variant's inputs: a private STACK_DIR and the template's default tuning."""
    monkeypatch.setenv("STACK_DIR", str(tmp_path / "stack"))
    for name in TUNING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "stack" / "run").mkdir(parents=True)
    return tmp_path / "stack"


def render_local(count: int) -> str:
    return haproxy.render({name: list(range(1, count + 1)) for name in ("users", "products", "gateway")})


def assert_haproxy_accepts(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
    assert checks.unexpected_haproxy_warnings(result.stdout + result.stderr) == []


def load_render_script():
    sys.path.insert(0, str(COMPOSE_DIR))
    try:
        import render_haproxy
    finally:
        sys.path.remove(str(COMPOSE_DIR))
    return render_haproxy


def test_generated_compose_and_kubernetes_configs_are_fresh():
    render_haproxy = load_render_script()

    stale = [str(path.relative_to(ROOT)) for path in render_haproxy.stale_files()]

    assert stale == [], "run: .venv/bin/python compose/render_haproxy.py"


@pytest.mark.parametrize("count", [1, 3])
def test_local_variant_passes_haproxy_check(count, local_env: Path, tmp_path: Path):
    path = tmp_path / "local.cfg"
    path.write_text(render_local(count))

    result = subprocess.run(
        [checks.haproxy_binary(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )

    assert_haproxy_accepts(result)
    # Each replica twice: in be_users and in be_users_live, its panic-routing backend.
    assert len(re.findall(r"^\s+server users-\d+ 127\.0\.0\.1:\d+ check$", path.read_text(), re.MULTILINE)) == 2 * count


@pytest.mark.parametrize("path", [COMPOSE_HAPROXY, K8S_HAPROXY], ids=["compose", "k8s"])
def test_dns_variant_passes_haproxy_check_before_any_replica_resolves(path: Path, tmp_path: Path):
    result = checks.haproxy_check(path.read_text(), tmp_path)

    assert_haproxy_accepts(result)
    templates = [line for line in path.read_text().splitlines() if "server-template" in line]
    # One per backend: be_<tier> and its panic-routing twin be_<tier>_live.
    assert len(templates) == 6 and all("init-addr none" in line and " resolvers " in line for line in templates)


def test_compose_variant_uses_dockers_dns_and_k8s_variant_the_cluster_dns():
    compose, k8s = COMPOSE_HAPROXY.read_text(), K8S_HAPROXY.read_text()

    assert "nameserver docker 127.0.0.11:53" in compose
    assert "server-template users- 10 users:8000 check resolvers docker" in compose
    assert "parse-resolv-conf" in k8s
    assert "server-template users- 10 users.scaling.svc.cluster.local:8000 check resolvers cluster" in k8s


def normalized(text: str, *, haproxy_dir: str, run_dir: str) -> list[str]:
    """The config minus what legitimately differs per variant: paths, bind addresses, servers, resolvers and
    the per-server maxconn (the capacity share of one of its HAProxy instances)."""
    lines = []
    in_resolvers = False
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        if line.startswith("resolvers "):
            in_resolvers = True
            continue
        if in_resolvers and line.startswith(" "):
            continue
        in_resolvers = False
        stripped = line.strip()
        if stripped.startswith(("server ", "server-template ")):
            continue
        line = line.replace(haproxy_dir, "HAPROXY_DIR").replace(run_dir, "RUN_DIR")
        line = re.sub(r"^(\s+bind )\S+:(\d+)$", r"\1ADDR:\2", line)
        # Each variant's share of a replica's capacity: its own number of HAProxy instances.
        if stripped.startswith("default-server "):
            line = re.sub(r" maxconn \d+\b", " maxconn SHARE", line)
        lines.append(line)
    return lines


def test_every_variant_shares_the_templates_tuning_frontends_and_backends(local_env: Path):
    local = normalized(render_local(3), haproxy_dir=str(ROOT / "haproxy"), run_dir=str(local_env / "run"))
    container_paths = {"haproxy_dir": "/usr/local/etc/haproxy", "run_dir": "/var/lib/haproxy"}

    assert normalized(COMPOSE_HAPROXY.read_text(), **container_paths) == local
    assert normalized(K8S_HAPROXY.read_text(), **container_paths) == local


def test_render_for_dns_rejects_an_unknown_target():
    with pytest.raises(Exception, match="unknown HAProxy target 'swarm'"):
        haproxy.render_for_dns("swarm", threads=4, gateway_concurrency=32, haproxy_instances=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_haproxy_exports_every_haproxy_metric_the_dashboard_plots(local_env: Path, tmp_path: Path, monkeypatch):
    for name in ("GATEWAY_PORT", "USERS_PORT", "PRODUCTS_PORT", "HAPROXY_STATS_PORT"):
        monkeypatch.setenv(name, str(free_port()))
    monkeypatch.setenv("REPLICA_PORT_BASE", str(free_port() // 2))
    path = tmp_path / "metrics.cfg"
    path.write_text(render_local(1))
    wanted = {
        name
        for expr in checks.dashboard_exprs(COMPOSE_DIR / "observability/grafana/dashboards/scaling.json")
        for name in re.findall(r"\bhaproxy_[a-z_]+", expr)
    }
    url = f"http://127.0.0.1:{os.environ['HAPROXY_STATS_PORT']}/metrics"
    process = subprocess.Popen(
        [checks.haproxy_binary(), "-db", "-f", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        exported = scrape(url, deadline=time.monotonic() + 10)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert wanted and wanted <= exported


def scrape(url: str, *, deadline: float) -> set[str]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback only)
                text = response.read().decode()
            return {line.split("{")[0].split()[0] for line in text.splitlines() if line and not line.startswith("#")}
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# ---------------------------------------------------------------- broken on purpose


def test_a_broken_directive_fails_haproxy_check(tmp_path: Path):
    broken = COMPOSE_HAPROXY.read_text().replace("balance leastconn", "balance leastconnections", 1)

    result = checks.haproxy_check(broken, tmp_path)

    assert result.returncode != 0
    assert "balance only supports" in result.stdout + result.stderr


def test_a_hand_edited_generated_file_is_reported_stale(monkeypatch, tmp_path: Path):
    render_haproxy = load_render_script()
    copy = tmp_path / "haproxy.cfg"
    copy.write_text(COMPOSE_HAPROXY.read_text().replace("timeout queue 2s", "timeout queue 5s"))
    monkeypatch.setattr(render_haproxy, "COMPOSE_CONFIG", copy)

    assert copy in render_haproxy.stale_files()
