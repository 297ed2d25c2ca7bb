"""Render haproxy/haproxy.cfg.template for Docker Compose and Kubernetes, next to the local variant.

    .venv/bin/python compose/render_haproxy.py            # write the generated files
    .venv/bin/python compose/render_haproxy.py --check    # exit 1 if any is stale (tests/deploy does this)

Writes compose/haproxy/haproxy.cfg, deploy/k8s/haproxy/haproxy.cfg and deploy/k8s/haproxy/errors/*.http
(kustomize reads files only under deploy/k8s, so the error pages are copied there).
Edit the template, never the generated files; then run this script and commit its output.
Each server's maxconn is computed from GUNICORN_THREADS (a gateway's from GATEWAY_CONCURRENCY; both in
compose/.env.example and deploy/k8s/config.env) and the number of HAProxy instances (one in compose,
deploy/k8s/haproxy.yaml's replicas in Kubernetes).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

import yaml  # noqa: E402

from stackctl import haproxy  # noqa: E402

COMPOSE_CONFIG = ROOT / "compose" / "haproxy" / "haproxy.cfg"
COMPOSE_ENV = ROOT / "compose" / ".env.example"
K8S_DIR = ROOT / "deploy" / "k8s"
K8S_ENV = K8S_DIR / "config.env"
K8S_HAPROXY_MANIFEST = K8S_DIR / "haproxy.yaml"
K8S_CONFIG = K8S_DIR / "haproxy" / "haproxy.cfg"
K8S_ERRORS = K8S_DIR / "haproxy" / "errors"
ERRORS = ROOT / "haproxy" / "errors"
# The namespace in deploy/k8s/kustomization.yaml: HAProxy resolves the headless Services by full name.
K8S_NAMESPACE = "scaling"
# server-template slots per backend: the most replicas of one tier HAProxy can send traffic to.
# The HorizontalPodAutoscalers' maxReplicas must not exceed it (tests/deploy checks).
SLOTS = 10
HEADER = (
    "# GENERATED from haproxy/haproxy.cfg.template by compose/render_haproxy.py ({target} variant).\n"
    "# Do not edit: change the template, then run .venv/bin/python compose/render_haproxy.py\n"
)


def env_value(path: Path, name: str) -> str:
    """NAME=value from a compose .env file or a kustomize env file."""
    for line in path.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"{path.relative_to(ROOT)} does not set {name}")


def capacities(path: Path) -> dict[str, int]:
    """What one replica serves at once, from an env file: a service's threads and a gateway's concurrency."""
    return {
        "threads": int(env_value(path, "GUNICORN_THREADS")),
        "gateway_concurrency": int(env_value(path, "GATEWAY_CONCURRENCY")),
    }


def k8s_haproxy_replicas() -> int:
    """The HAProxy Deployment's replica count: each pod takes its share of every application pod's threads."""
    for document in yaml.safe_load_all(K8S_HAPROXY_MANIFEST.read_text()):
        if document and document["kind"] == "Deployment":
            return int(document["spec"]["replicas"])
    raise SystemExit(f"no Deployment in {K8S_HAPROXY_MANIFEST.relative_to(ROOT)}")


def expected_files(*, namespace: str = K8S_NAMESPACE) -> dict[Path, str]:
    """Every generated file and the text it must hold."""
    compose = haproxy.render_for_dns("compose", slots=SLOTS, **capacities(COMPOSE_ENV), haproxy_instances=1)
    k8s = haproxy.render_for_dns(
        "k8s", slots=SLOTS, namespace=namespace, **capacities(K8S_ENV), haproxy_instances=k8s_haproxy_replicas()
    )
    files = {COMPOSE_CONFIG: HEADER.format(target="compose") + compose, K8S_CONFIG: HEADER.format(target="k8s") + k8s}
    for page in sorted(ERRORS.glob("*.http")):
        files[K8S_ERRORS / page.name] = page.read_text()
    return files


def stale_files(*, namespace: str = K8S_NAMESPACE) -> list[Path]:
    """Generated files missing or different from what the template renders today, plus strays."""
    expected = expected_files(namespace=namespace)
    stale = [path for path, text in expected.items() if not path.exists() or path.read_text() != text]
    strays = [path for path in sorted(K8S_ERRORS.glob("*.http")) if path not in expected]
    return stale + strays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the compose and Kubernetes HAProxy configs.")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    parser.add_argument("--namespace", default=K8S_NAMESPACE, help="Kubernetes namespace of the Services")
    args = parser.parse_args(argv)

    if args.check:
        stale = stale_files(namespace=args.namespace)
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale:
            print("run: .venv/bin/python compose/render_haproxy.py", file=sys.stderr)
        return 1 if stale else 0

    for path in sorted(K8S_ERRORS.glob("*.http")):
        path.unlink()
    for path, text in expected_files(namespace=args.namespace).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
