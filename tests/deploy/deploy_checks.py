"""Validators for the Dockerfile, Compose and Kubernetes files: each returns a list of problems, empty when sound.

They take paths, so the tests run them on the real files and on broken copies alike.
"""

import ast
import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
OBSERVABILITY_FILE = COMPOSE_DIR / "docker-compose.observability.yml"
COMPOSE_HAPROXY = COMPOSE_DIR / "haproxy" / "haproxy.cfg"
K8S_DIR = ROOT / "deploy" / "k8s"
K8S_HAPROXY = K8S_DIR / "haproxy" / "haproxy.cfg"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"

PROJECTS = {"users": "user_project", "products": "product_project", "gateway": "gateway_project"}
SHARED_SOURCES = ROOT / "libs" / "svc_common" / "src" / "svc_common"
# The Kubernetes version the manifests must be valid for: the oldest one docs/deploy.md supports.
KUBERNETES_VERSION = "1.30"
APP_IMAGE = "scaling-app"
# Set by the image or its entry point, never by compose or Kubernetes.
SET_BY_IMAGE = {"DJANGO_SETTINGS_MODULE", "GUNICORN_PROC_NAME", "PYTHONPATH"}
# Needed in a container whatever the code's default says: the defaults point at 127.0.0.1.
ALWAYS_REQUIRED = {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "GUNICORN_BIND"}
GATEWAY_REQUIRED = {"USERS_SERVICE_URL", "PRODUCTS_SERVICE_URL"}
# Only the demo PostgreSQL and Redis need these; compose hands them to every container through .env.example.
DATABASE_SERVER_ONLY = {
    "POSTGRES_USER", "POSTGRES_PASSWORD", "USERS_DB_PASSWORD", "PRODUCTS_DB_PASSWORD", "GATEWAY_DB_PASSWORD",
    "REDIS_USERS_PASSWORD", "REDIS_PRODUCTS_PASSWORD", "REDIS_GATEWAY_PASSWORD",
}  # fmt: skip
# Filled in by kustomize from the release's image (deploy/k8s/kustomization.yaml); compose has no releases.
SET_BY_KUSTOMIZE = {"APP_IMAGE", "APP_RELEASE"}
# django-environ's readers: env.str("NAME", ...), env.db_url("NAME"), ...
ENV_METHODS = {
    "str", "bool", "int", "float", "list", "tuple", "dict", "json", "path", "url", "decimal", "bytes",
    "db_url", "db", "cache_url", "cache", "email_url", "email", "search_url", "get_value",
}  # fmt: skip


# ---------------------------------------------------------------- environment variables the code reads


@dataclass(frozen=True)
class EnvRead:
    """One place where code reads an environment variable."""

    name: str
    path: Path
    line: int
    has_default: bool

    def where(self) -> str:
        try:
            return f"{self.path.relative_to(ROOT)}:{self.line}"
        except ValueError:
            return f"{self.path}:{self.line}"


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)


def env_reads(path: Path) -> tuple[list[EnvRead], list[str]]:
    """Every env.<reader>("NAME"), env("NAME"), os.environ.get/[...] and os.getenv in a Python file.

    A name that is not a string literal cannot be checked, so it is returned as a problem.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    reads: list[EnvRead] = []
    problems: list[str] = []

    def record(name_node, line: int, has_default: bool, call: str) -> None:
        name = _literal(name_node)
        if name is None:
            problems.append(
                f"{path}:{line}: {call} with a name that is not a string literal; tests/deploy can't check it"
            )
        else:
            reads.append(EnvRead(name, path, line, has_default))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            keywords = {keyword.arg for keyword in node.keywords}
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "var"), None)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
                if func.attr in ENV_METHODS:
                    record(first, node.lineno, "default" in keywords or len(node.args) >= 2, f"env.{func.attr}()")
            elif isinstance(func, ast.Name) and func.id == "env":
                record(first, node.lineno, "default" in keywords or len(node.args) >= 3, "env()")
            elif isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value):
                # Optional by construction: None when unset.
                record(first, node.lineno, True, "os.environ.get()")
            elif isinstance(func, ast.Attribute) and func.attr == "getenv":
                record(first, node.lineno, True, "os.getenv()")
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
            record(node.slice, node.lineno, False, "os.environ[]")
    return reads, problems


def settings_sources(project: str, root: Path = ROOT) -> list[Path]:
    """The files whose environment reads a project's replicas depend on."""
    shared = sorted((root / "libs" / "svc_common" / "src" / "svc_common").rglob("*.py"))
    return [root / project / project / "settings.py", *shared]


def required_env(service: str, *, sources: list[Path] | None = None) -> tuple[dict[str, EnvRead], list[str]]:
    """The variables a service's container must be given, and any read that can't be checked.

    Every variable its settings module or the shared package reads is required, default or not, so a
    variable added later shows up in compose and Kubernetes instead of silently taking a local default.
    gunicorn's own variables are required only where they have no default, plus GUNICORN_BIND.
    """
    sources = sources if sources is not None else settings_sources(PROJECTS[service])
    required: dict[str, EnvRead] = {}
    problems: list[str] = []
    for path in sources:
        reads, unreadable = env_reads(path)
        problems += unreadable
        for read in reads:
            required.setdefault(read.name, read)
    reads, unreadable = env_reads(GUNICORN_CONFIG)
    problems += unreadable
    for read in reads:
        if not read.has_default or read.name in ALWAYS_REQUIRED:
            required.setdefault(read.name, read)
    extra = ALWAYS_REQUIRED | (GATEWAY_REQUIRED if service == "gateway" else set())
    for name in sorted(extra - required.keys()):
        required[name] = EnvRead(name, Path(__file__), 0, False)
    for name in SET_BY_IMAGE:
        required.pop(name, None)
    return required, problems


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as docker compose and kustomize read them; comments and blank lines skipped."""
    return parse_env_text(path.read_text(), str(path))


def parse_env_text(text: str, origin: str) -> dict[str, str]:
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"{origin}:{number}: not KEY=VALUE: {raw!r}")
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


def compose_env_with_fresh_secrets() -> dict[str, str]:
    """compose/.env as compose/make_env.py writes it: the example with a fresh value for every placeholder secret
    (the example's own are refused at start)."""
    spec = importlib.util.spec_from_file_location("make_env", COMPOSE_DIR / "make_env.py")
    make_env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_env)
    return parse_env_text(make_env.with_fresh_secrets((COMPOSE_DIR / ".env.example").read_text()), "compose/.env")


# ---------------------------------------------------------------- HAProxy config


def haproxy_sections(text: str) -> dict[str, list[str]]:
    """'frontend fe_users' -> its lines (comments dropped)."""
    sections: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not raw.startswith((" ", "\t")):
            current = " ".join(line.split()[:2])
            sections[current] = []
        elif current is not None:
            sections[current].append(line.strip())
    return sections


@dataclass(frozen=True)
class ServerRef:
    backend: str
    host: str
    port: int
    line: str


def haproxy_server_refs(text: str) -> list[ServerRef]:
    """Every `server` and `server-template` address, with its backend."""
    refs = []
    for section, lines in haproxy_sections(text).items():
        if not section.startswith("backend "):
            continue
        for line in lines:
            words = line.split()
            address = None
            if words[0] == "server-template":
                address = words[3]
            elif words[0] == "server":
                address = words[2]
            if address:
                host, _, port = address.rpartition(":")
                refs.append(ServerRef(section.split()[1], host, int(port), line))
    return refs


def haproxy_frontend_ports(text: str) -> dict[str, int]:
    """default_backend of each frontend -> the port it binds; fe_stats as 'stats'."""
    ports = {}
    for section, lines in haproxy_sections(text).items():
        if not section.startswith("frontend "):
            continue
        bind = next((int(line.split()[1].rpartition(":")[2]) for line in lines if line.startswith("bind ")), None)
        backend = next((line.split()[1] for line in lines if line.startswith("default_backend ")), "stats")
        ports[backend] = bind
    return ports


def haproxy_check(text: str, workdir: Path) -> subprocess.CompletedProcess:
    """`haproxy -c` on a container config, its /usr/local/etc/haproxy and /var/lib/haproxy mapped to here."""
    run_dir = workdir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    local = text.replace("/usr/local/etc/haproxy", str(ROOT / "haproxy")).replace("/var/lib/haproxy", str(run_dir))
    path = workdir / "haproxy.cfg"
    path.write_text(local)
    return subprocess.run([haproxy_binary(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)


def haproxy_binary() -> str:
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def unexpected_haproxy_warnings(output: str) -> list[str]:
    """Warnings from `haproxy -c` except the missing server-state file, which only exists after a reload."""
    return [line for line in output.splitlines() if "[WARNING]" in line and "server state file" not in line]


# ---------------------------------------------------------------- Compose


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def compose_schema_problems(path: Path) -> list[str]:
    """Validation errors against the Compose specification's JSON schema (vendored by check-jsonschema)."""
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [
        f"{path.name}: {error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(load_yaml(path)), key=lambda error: error.json_path)
    ]


def merge_compose(*paths: Path) -> dict:
    """The model `docker compose -f a -f b` builds, as far as these checks need: later services extend earlier ones."""
    merged: dict = {"services": {}, "volumes": {}, "networks": {}}
    for path in paths:
        data = load_yaml(path) or {}
        for key in ("volumes", "networks"):
            merged[key].update(data.get(key) or {})
        for name, service in (data.get("services") or {}).items():
            merged["services"].setdefault(name, {}).update(service)
    return merged


def compose_app_services(compose: dict) -> dict[str, dict]:
    """Compose services that run the application image, by compose name."""
    return {
        name: service
        for name, service in compose["services"].items()
        if str(service.get("image", "")).startswith(("${APP_IMAGE", APP_IMAGE)) or "build" in service
    }


def compose_environment(service: dict, compose_dir: Path) -> tuple[dict[str, str], list[str]]:
    """A service's environment: its required env_files (the optional .env is the operator's), then `environment`."""
    env: dict[str, str] = {}
    problems = []
    entries = service.get("env_file") or []
    for entry in [entries] if isinstance(entries, str) else entries:
        path, required = (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True))
        if not required:
            continue
        full = compose_dir / path
        if not full.exists():
            problems.append(f"env_file {path} does not exist")
            continue
        env.update(parse_env_file(full))
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    env.update({key: "" if value is None else str(value) for key, value in environment.items()})
    return env, problems


def compose_env_problems(
    compose_file: Path = COMPOSE_FILE, *, sources: dict[str, list[Path]] | None = None
) -> list[str]:
    """Every variable each service's code reads is set for every container of that service."""
    compose = merge_compose(compose_file)
    problems = []
    for name, service in compose_app_services(compose).items():
        env, env_problems = compose_environment(service, compose_file.parent)
        problems += [f"compose service {name}: {problem}" for problem in env_problems]
        tier = env.get("SERVICE")
        if tier not in PROJECTS:
            problems.append(f"compose service {name}: SERVICE must be one of {sorted(PROJECTS)}, not {tier!r}")
            continue
        required, unreadable = required_env(tier, sources=(sources or {}).get(tier))
        problems += unreadable
        for variable, read in sorted(required.items()):
            if variable not in env:
                problems.append(
                    f"compose service {name}: {variable} (read at {read.where()}) is not set: "
                    f"add it to compose/.env.example or the service's environment"
                )
            elif variable in ALWAYS_REQUIRED | GATEWAY_REQUIRED and not env[variable]:
                problems.append(f"compose service {name}: {variable} is empty")
    return problems


def compose_reference_problems(compose_file: Path = COMPOSE_FILE, haproxy_cfg: Path = COMPOSE_HAPROXY) -> list[str]:
    """HAProxy's servers, the gateway's upstream URLs and depends_on point at services and ports that exist."""
    compose = merge_compose(compose_file)
    services = compose["services"]
    text = haproxy_cfg.read_text()
    problems = []
    apps = compose_app_services(compose)
    tier_of = {
        name: compose_environment(service, compose_file.parent)[0].get("SERVICE") for name, service in apps.items()
    }

    for ref in haproxy_server_refs(text):
        if ref.host not in services:
            problems.append(f"HAProxy {ref.backend} resolves '{ref.host}', which is not a compose service")
            continue
        if ref.host not in apps:
            problems.append(f"HAProxy {ref.backend} sends traffic to '{ref.host}', which does not run the app image")
            continue
        env = compose_environment(services[ref.host], compose_file.parent)[0]
        bind_port = int(env.get("GUNICORN_BIND", "127.0.0.1:8000").rpartition(":")[2])
        if ref.port != bind_port:
            problems.append(
                f"HAProxy {ref.backend} uses port {ref.port} of '{ref.host}', whose gunicorn binds {bind_port}"
            )
        expected_backend = f"be_{tier_of.get(ref.host)}"
        # be_<tier>_live: the tier's panic-routing backend, the same replicas checked for liveness only.
        if ref.backend.removesuffix("_live") != expected_backend:
            problems.append(f"HAProxy {ref.backend} points at '{ref.host}', a {tier_of.get(ref.host)} service")
    referenced = {ref.host for ref in haproxy_server_refs(text)}
    for name, tier in tier_of.items():
        if not name.endswith("-migrate") and name not in referenced:
            problems.append(f"compose service {name} ({tier}) is not behind HAProxy")

    ports = haproxy_frontend_ports(text)
    haproxy = services.get("haproxy")
    if haproxy is None:
        problems.append("compose has no 'haproxy' service")
    else:
        published = {int(str(entry).rsplit(":", 1)[1]) for entry in haproxy.get("ports", [])}
        for backend, port in ports.items():
            if port not in published:
                problems.append(f"HAProxy binds {port} ({backend}) but the haproxy service does not publish it")
        for port in published - set(ports.values()):
            problems.append(f"the haproxy service publishes {port}, where HAProxy binds nothing")

    for name, service in apps.items():
        env = compose_environment(service, compose_file.parent)[0]
        if env.get("SERVICE") != "gateway":
            continue
        for variable, backend in (("USERS_SERVICE_URL", "be_users"), ("PRODUCTS_SERVICE_URL", "be_products")):
            url = urlsplit(env.get(variable, ""))
            if url.hostname != "haproxy":
                problems.append(f"compose service {name}: {variable} must go through HAProxy (http://haproxy:PORT)")
            elif url.port != ports.get(backend):
                problems.append(
                    f"compose service {name}: {variable} uses port {url.port}, "
                    f"but HAProxy serves {backend} on {ports.get(backend)}"
                )

    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target in depends if isinstance(depends, list) else depends.keys():
            if target not in services:
                problems.append(f"compose service {name} depends on '{target}', which does not exist")
    return problems


# ---------------------------------------------------------------- Kubernetes


def kustomization(k8s_dir: Path = K8S_DIR) -> dict:
    return load_yaml(k8s_dir / "kustomization.yaml")


def k8s_resources(k8s_dir: Path = K8S_DIR) -> list[dict]:
    """What kustomization.yaml lists, and the ConfigMaps its generators make (names without the hash)."""
    config = kustomization(k8s_dir)
    resources = []
    for entry in config.get("resources", []):
        resources += [doc for doc in yaml.safe_load_all((k8s_dir / entry).read_text()) if doc]
    for generator in config.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env_path in generator.get("envs", []):
            data.update(parse_env_file(k8s_dir / env_path))
        for entry in generator.get("files", []):
            key, _, path = entry.rpartition("=")
            data[key or Path(path).name] = (k8s_dir / path).read_text()
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        resources.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    return resources


def secret_template(k8s_dir: Path = K8S_DIR) -> dict:
    return load_yaml(k8s_dir / "secret.example.yaml")


def k8s_schema_problems(resources: list[dict], *, version: str = KUBERNETES_VERSION) -> list[str]:
    """Strict validation against the Kubernetes OpenAPI schemas shipped in kubernetes-validate (offline)."""
    problems = []
    for resource in resources:
        name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            problems.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: {exc}")
    return problems


def kubectl_kustomize(k8s_dir: Path = K8S_DIR) -> list[dict] | None:
    """`kubectl kustomize` output, or None where kubectl is not installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    result = subprocess.run([kubectl, "kustomize", str(k8s_dir)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def pod_specs(resources: list[dict]) -> dict[str, dict]:
    """'Kind/name' -> pod spec of every workload."""
    return {
        f"{resource['kind']}/{resource['metadata']['name']}": resource["spec"]["template"]["spec"]
        for resource in resources
        if resource["kind"] in {"Deployment", "StatefulSet", "Job", "DaemonSet"}
    }


def by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {resource["metadata"]["name"]: resource for resource in resources if resource["kind"] == kind}


def container_env_names(container: dict, resources: list[dict], secret: dict) -> tuple[set[str], list[str]]:
    """Names a container's environment will hold, and references to ConfigMaps/Secret keys that don't exist."""
    config_maps = by_kind(resources, "ConfigMap")
    secret_keys = set((secret.get("stringData") or {}) | (secret.get("data") or {}))
    names, problems = set(), []
    for entry in container.get("env", []):
        names.add(entry["name"])
        ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
        if ref and (ref["name"] != secret["metadata"]["name"] or ref["key"] not in secret_keys):
            problems.append(f"{entry['name']} comes from secret {ref['name']}/{ref['key']}, which the template lacks")
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
        if ref and ref["key"] not in (config_maps.get(ref["name"], {}).get("data") or {}):
            problems.append(f"{entry['name']} comes from configmap {ref['name']}/{ref['key']}, which does not exist")
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                problems.append(f"envFrom configmap {name} does not exist")
            names |= set(config_maps.get(name, {}).get("data") or {})
        if "secretRef" in source:
            if source["secretRef"]["name"] != secret["metadata"]["name"]:
                problems.append(f"envFrom secret {source['secretRef']['name']} has no template")
            names |= secret_keys
    return names, problems


def app_containers(resources: list[dict]):
    """(workload, container) for every container and init container running the application image."""
    for workload, spec in pod_specs(resources).items():
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            if container["image"].split(":")[0] == APP_IMAGE:
                yield workload, container


def k8s_env_problems(k8s_dir: Path = K8S_DIR, *, sources: dict[str, list[Path]] | None = None) -> list[str]:
    """Every variable each service's code reads is set for each of its containers (ConfigMap, Secret or env)."""
    resources = k8s_resources(k8s_dir)
    secret = secret_template(k8s_dir)
    problems = []
    for workload, container in app_containers(resources):
        label = f"{workload} container {container['name']}"
        names, ref_problems = container_env_names(container, resources, secret)
        problems += [f"{label}: {problem}" for problem in ref_problems]
        tier = next((entry.get("value") for entry in container.get("env", []) if entry["name"] == "SERVICE"), None)
        if tier not in PROJECTS:
            problems.append(f"{label}: SERVICE must be one of {sorted(PROJECTS)}, not {tier!r}")
            continue
        required, unreadable = required_env(tier, sources=(sources or {}).get(tier))
        problems += unreadable
        for variable, read in sorted(required.items()):
            if variable not in names:
                problems.append(
                    f"{label}: {variable} (read at {read.where()}) is not set: add it to deploy/k8s/config.env, "
                    f"or to secret.example.yaml and the container's env"
                )
    return problems


def _service_targets(service: dict, resources: list[dict]) -> list[tuple[str, dict]]:
    """(workload, pod spec) of the workloads whose pod labels the Service selects."""
    selector = service["spec"].get("selector") or {}
    matches = []
    for resource in resources:
        if resource["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        labels = resource["spec"]["template"]["metadata"].get("labels") or {}
        if selector and all(labels.get(key) == value for key, value in selector.items()):
            matches.append((f"{resource['kind']}/{resource['metadata']['name']}", resource["spec"]["template"]["spec"]))
    return matches


def _container_port(spec: dict, target) -> int | None:
    for container in spec.get("containers", []):
        for port in container.get("ports", []):
            if target in (port.get("name"), port["containerPort"]):
                return port["containerPort"]
    return None


def k8s_reference_problems(k8s_dir: Path = K8S_DIR, haproxy_cfg: Path | None = None) -> list[str]:
    """HAProxy's server-templates, the gateway's upstream URLs and the HAProxy Service agree with the manifests."""
    resources = k8s_resources(k8s_dir)
    namespace = kustomization(k8s_dir).get("namespace", "default")
    text = (haproxy_cfg or k8s_dir / "haproxy" / "haproxy.cfg").read_text()
    services = by_kind(resources, "Service")
    config = by_kind(resources, "ConfigMap").get("scaling-config", {}).get("data") or {}
    bind_port = int(config.get("GUNICORN_BIND", "127.0.0.1:8000").rpartition(":")[2])
    problems = []

    for ref in haproxy_server_refs(text):
        match = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.[a-z0-9.-]+", ref.host)
        if not match:
            problems.append(f"HAProxy {ref.backend} resolves '{ref.host}', not a Service's full DNS name")
            continue
        name, service_namespace = match.groups()
        if service_namespace != namespace:
            problems.append(
                f"HAProxy {ref.backend} resolves namespace '{service_namespace}', kustomize uses '{namespace}'"
            )
        service = services.get(name)
        if service is None:
            problems.append(f"HAProxy {ref.backend} resolves Service '{name}', which does not exist")
            continue
        if service["spec"].get("clusterIP") != "None":
            problems.append(f"Service {name} must be headless (clusterIP: None) for HAProxy to see every pod")
        port = next((port for port in service["spec"]["ports"] if port["port"] == ref.port), None)
        if port is None:
            problems.append(f"HAProxy {ref.backend} uses port {ref.port}, which Service {name} does not expose")
            continue
        targets = _service_targets(service, resources)
        if not targets:
            problems.append(f"Service {name} selects no Deployment or StatefulSet")
        for workload, spec in targets:
            # A headless Service's DNS answers pod IPs: HAProxy connects to the container port itself.
            container_port = _container_port(spec, port.get("targetPort", port["port"]))
            if container_port != ref.port or container_port != bind_port:
                problems.append(
                    f"HAProxy {ref.backend} connects to port {ref.port}; {workload} listens on {container_port} "
                    f"and GUNICORN_BIND says {bind_port}"
                )

    frontends = haproxy_frontend_ports(text)
    haproxy_service = services.get("haproxy")
    if haproxy_service is None:
        problems.append("no 'haproxy' Service")
        return problems
    exposed = {}
    for _workload, spec in _service_targets(haproxy_service, resources):
        for port in haproxy_service["spec"]["ports"]:
            exposed[port["port"]] = _container_port(spec, port.get("targetPort", port["port"]))
    for backend, port in frontends.items():
        if port not in exposed.values():
            problems.append(f"HAProxy binds {port} ({backend}) but no haproxy Service port reaches it")
    for variable, backend in (("USERS_SERVICE_URL", "be_users"), ("PRODUCTS_SERVICE_URL", "be_products")):
        url = urlsplit(config.get(variable, ""))
        if url.hostname != "haproxy":
            problems.append(f"{variable} must go through the haproxy Service (http://haproxy:PORT)")
        elif exposed.get(url.port) != frontends.get(backend):
            problems.append(
                f"{variable} uses Service port {url.port}, which does not reach HAProxy's {backend} frontend "
                f"on {frontends.get(backend)}"
            )
    return problems


def parse_duration(value: str | int) -> float:
    """'30s', '1m30s', 45 -> seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


# ---------------------------------------------------------------- Dockerfile


def dockerignore_patterns(path: Path = DOCKERIGNORE) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether the build context leaves out this path (Docker's rules, for the patterns used here)."""
    excluded = False
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern] + ([pattern[3:]] if pattern.startswith("**/") else [])
        if any(fnmatch.fnmatchcase(prefix, candidate) for prefix in prefixes for candidate in candidates) or any(
            pattern.startswith("**/") and fnmatch.fnmatchcase(part, pattern[3:]) for part in parts
        ):
            excluded = not negate
    return excluded


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, buffer = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        buffer += (" " if buffer else "") + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            keyword, _, arguments = buffer.partition(" ")
            instructions.append((keyword.upper(), arguments))
            buffer = ""
    return instructions


def dockerfile_problems(path: Path = DOCKERFILE, dockerignore: Path = DOCKERIGNORE) -> list[str]:
    """The image contract: slim multi-stage, non-root, health check, entry point, and COPY sources in the context."""
    instructions = dockerfile_instructions(path)
    args = {
        arguments.split("=", 1)[0]: arguments.split("=", 1)[1]
        for keyword, arguments in instructions
        if keyword == "ARG" and "=" in arguments
    }
    problems = []
    stages = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    if len(stages) < 2:
        problems.append("the Dockerfile must be multi-stage (a build stage and a runtime stage)")
    for stage in stages:
        image = stage.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda match: args.get(match.group(1), match.group(0)), image)
        if not re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", image):
            problems.append(f"stage FROM {image}: expected python:3.11.<patch>-slim-bookworm@sha256:<digest>")
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    final_user = re.sub(r"\$\{(\w+)\}", lambda match: args.get(match.group(1), ""), users[-1]) if users else "root"
    if final_user.split(":")[0] in {"", "0", "root"}:
        problems.append(f"the image must not run as root (last USER is {final_user!r})")
    if not any(keyword == "HEALTHCHECK" and "healthcheck.py" in arguments for keyword, arguments in instructions):
        problems.append("no HEALTHCHECK running deploy/docker/healthcheck.py")
    if not any(keyword == "ENTRYPOINT" and "entrypoint.sh" in arguments for keyword, arguments in instructions):
        problems.append("no ENTRYPOINT running deploy/docker/entrypoint.sh")
    if not any(keyword == "RUN" and "collectstatic" in arguments for keyword, arguments in instructions):
        problems.append("static files are not collected at build time")
    patterns = dockerignore_patterns(dockerignore)
    for keyword, arguments in instructions:
        if keyword != "COPY" or "--from=" in arguments:
            continue
        sources = [word for word in arguments.split() if not word.startswith("--")][:-1]
        for source in sources:
            if not (path.parent / source).exists():
                problems.append(f"COPY {source}: no such path in the repository")
            elif dockerignored(source, patterns):
                problems.append(f"COPY {source}: .dockerignore leaves it out of the build context")
    return problems


def hadolint_binary() -> str | None:
    return shutil.which("hadolint") or _venv_tool("hadolint")


def shellcheck_binary() -> str | None:
    return shutil.which("shellcheck") or _venv_tool("shellcheck")


SHELL_SHEBANG = re.compile(rb"^#!\S*(/| )(sh|bash|dash)\b")


def repository_files(root: Path = ROOT) -> list[Path]:
    """Every file of the checkout: tracked, or new and not ignored (git's view, so no venv or var/)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return sorted(root / name for name in listed.decode().split("\0") if name and (root / name).is_file())


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """The repository's shell scripts: *.sh, and any file whose first line runs sh or bash."""

    def is_shell(path: Path) -> bool:
        if path.suffix == ".sh":
            return True
        with path.open("rb") as handle:
            return bool(SHELL_SHEBANG.match(handle.readline()))

    return [path for path in repository_files(root) if is_shell(path)]


def _venv_tool(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def dashboard_exprs(path: Path) -> list[str]:
    dashboard = json.loads(path.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


# ---------------------------------------------------------------- releases and capacity

# An image pinned to a version and its digest: name:tag@sha256:<64 hex>.
PINNED_IMAGE = re.compile(r"[a-z0-9./:_-]+:(?P<tag>[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}")


def set_release_image(k8s_dir: Path, reference: str) -> None:
    """What `kustomize edit set image scaling-app=<reference>` writes, for a REF:TAG@sha256:DIGEST reference.

    The kustomize CLI is not installed here (kubectl has no `edit`), so the tests make the same edit: the
    scaling-app entry of `images` gets newName, newTag and digest.
    """
    match = re.fullmatch(r"(?P<name>[^@]+):(?P<tag>[A-Za-z0-9._-]+)@(?P<digest>sha256:[0-9a-f]{64})", reference)
    if match is None:
        raise ValueError(f"not NAME:TAG@sha256:DIGEST: {reference!r}")
    path = k8s_dir / "kustomization.yaml"
    config = load_yaml(path)
    (entry,) = [image for image in config["images"] if image["name"] == APP_IMAGE]
    entry.update(newName=match["name"], newTag=match["tag"], digest=match["digest"])
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def images(resources: list[dict]) -> dict[str, str]:
    """'Kind/name container' -> image, for every container and init container."""
    found = {}
    for workload, spec in pod_specs(resources).items():
        for container in spec.get("initContainers", []) + spec["containers"]:
            found[f"{workload} {container['name']}"] = container["image"]
    return found


# Fields the API server refuses to change on an existing object: `kubectl apply` of a new release fails on
# any difference here (a client-side dry run cannot see it: it needs the live object).
IMMUTABLE_FIELDS = {
    "Job": ("spec.template", "spec.selector", "spec.completionMode"),
    "Deployment": ("spec.selector",),
    "StatefulSet": ("spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"),
    "DaemonSet": ("spec.selector",),
    "Service": ("spec.clusterIP",),
}


def _field(resource: dict, dotted: str):
    value = resource
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def immutable_field_conflicts(live: list[dict], applied: list[dict]) -> list[str]:
    """The objects of `applied` that exist in `live` under the same kind, namespace and name, and whose
    immutable fields differ: where applying the second render over the first would fail."""
    current = {
        (resource["kind"], resource["metadata"].get("namespace"), resource["metadata"]["name"]): resource
        for resource in live
    }
    conflicts = []
    for resource in applied:
        key = (resource["kind"], resource["metadata"].get("namespace"), resource["metadata"]["name"])
        before = current.get(key)
        if before is None:
            continue
        if resource["kind"] in {"ConfigMap", "Secret"} and before.get("immutable"):
            fields = ("data", "binaryData", "stringData")
        else:
            fields = IMMUTABLE_FIELDS.get(resource["kind"], ())
        for field in fields:
            if _field(before, field) != _field(resource, field):
                conflicts.append(f"{resource['kind']}/{resource['metadata']['name']}: {field} is immutable")
    return conflicts


@dataclass(frozen=True)
class ConnectionBudget:
    """PostgreSQL connections at the autoscalers' maxima, from the manifests, against max_connections."""

    per_tier: dict[str, int]
    migrations: int
    reserved: int
    operators: int
    max_connections: int

    @property
    def required(self) -> int:
        return sum(self.per_tier.values()) + self.migrations + self.reserved + self.operators


# manage.py migrate holds two: the migration's own and the session that holds the advisory lock (dbctl.py).
CONNECTIONS_PER_MIGRATION = 2
# superuser_reserved_connections' default: kept out of the services' reach.
RESERVED_CONNECTIONS = 3
# An operator's `kubectl exec ... manage <command>` sessions (seeding, createsuperuser, a shell).
OPERATOR_CONNECTIONS = 5


def connection_budget(resources: list[dict]) -> ConnectionBudget:
    """Every replica of every tier at its autoscaler's maximum, plus one surge pod per tier during a rollout,
    each holding workers x threads persistent connections; plus one release's migration Jobs."""
    config = by_kind(resources, "ConfigMap")["scaling-config"]["data"]
    per_pod = int(config["GUNICORN_WORKERS"]) * int(config["GUNICORN_THREADS"])
    autoscalers = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa for hpa in by_kind(resources, "HorizontalPodAutoscaler").values()
    }
    per_tier = {}
    for name, deployment in by_kind(resources, "Deployment").items():
        if name not in autoscalers:
            continue
        surge = int(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"])
        per_tier[name] = (autoscalers[name]["spec"]["maxReplicas"] + surge) * per_pod
    postgres = by_kind(resources, "StatefulSet")["postgres"]["spec"]["template"]["spec"]["containers"][0]
    arguments = dict(argument.split("=", 1) for argument in postgres.get("args", []) if "=" in argument)
    return ConnectionBudget(
        per_tier=per_tier,
        migrations=len(by_kind(resources, "Job")) * CONNECTIONS_PER_MIGRATION,
        reserved=RESERVED_CONNECTIONS,
        operators=OPERATOR_CONNECTIONS,
        # PostgreSQL's default when the server is started without -c max_connections.
        max_connections=int(arguments.get("max_connections", 100)),
    )


# ---------------------------------------------------------------- checkov

CHECKOV_SKIPS = ROOT / "deploy" / "checkov-skips.yaml"
CHECKOV_TARGETS = ("kubernetes", "compose", "dockerfile")


def checkov_binary() -> str | None:
    """checkov in its own virtualenv (./manage_all.sh test makes it from requirements/checkov.txt)."""
    venv = Path(os.environ.get("CHECKOV_VENV", ROOT / ".venv-checkov"))
    candidate = venv / "bin" / "checkov"
    return str(candidate) if candidate.exists() else None


def _interpolated(value: str) -> str:
    """${NAME:-default} -> default: what compose runs without an override."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def _cpus(value) -> str:
    return f"{int(float(value) * 1000)}m"


def _memory(value: str) -> str:
    return re.sub(r"^(\d+)([KMG])B?$", r"\1\2i", str(value))


def compose_as_kubernetes(compose: dict, *, project: str = "scaling") -> list[dict]:
    """Each compose service as the Kubernetes object that would run it, so checkov's Kubernetes checks apply.

    Only what compose states is carried over, with Docker's defaults where it states nothing: the default
    seccomp profile (RuntimeDefault) unless seccomp=unconfined, no service-account token, IfNotPresent pulls
    (pull_policy: missing). A one-shot service (restart: "no") is a Job; the healthcheck, which depends_on
    waits for, is a readiness probe; published ports are host ports.
    """
    objects = []
    for name, service in compose["services"].items():
        user, _, group = str(service.get("user", "0")).partition(":")
        options = service.get("security_opt") or []
        container = {
            "name": name,
            "image": _interpolated(service["image"]),
            "imagePullPolicy": "Always" if service.get("pull_policy") == "always" else "IfNotPresent",
            "securityContext": {
                "privileged": bool(service.get("privileged", False)),
                "readOnlyRootFilesystem": bool(service.get("read_only", False)),
                "allowPrivilegeEscalation": "no-new-privileges:true" not in options,
                "capabilities": {"drop": service.get("cap_drop") or [], "add": service.get("cap_add") or []},
            },
        }
        resources = (service.get("deploy") or {}).get("resources") or {}
        if resources:
            container["resources"] = {
                kind: {
                    key: converter(value)
                    for key, converter, value in (
                        ("cpu", _cpus, resources.get(source, {}).get("cpus")),
                        ("memory", _memory, resources.get(source, {}).get("memory")),
                    )
                    if value is not None
                }
                for kind, source in (("limits", "limits"), ("requests", "reservations"))
            }
        healthcheck = service.get("healthcheck") or {}
        if healthcheck.get("test") and not healthcheck.get("disable"):
            test = healthcheck["test"]
            container["readinessProbe"] = {"exec": {"command": test[1:] if test[0] in ("CMD", "CMD-SHELL") else test}}
        ports = []
        for entry in service.get("ports") or []:
            host, _, container_port = str(_interpolated(str(entry))).rpartition(":")
            host_ip, _, host_port = host.rpartition(":")
            ports.append({"containerPort": int(container_port), "hostPort": int(host_port), "hostIP": host_ip})
        if ports:
            container["ports"] = ports
        pod = {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsUser": int(user),
                "runAsGroup": int(group or user),
                "runAsNonRoot": int(user) != 0,
                "seccompProfile": {"type": "Unconfined" if "seccomp=unconfined" in options else "RuntimeDefault"},
            },
            "containers": [container],
        }
        metadata = {"name": name, "namespace": project, "labels": {"app.kubernetes.io/name": name}}
        if service.get("restart") == "no":
            pod["restartPolicy"] = "Never"
            objects.append(
                {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": {"template": {"spec": pod}}}
            )
        else:
            objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod})
    return objects


def checkov_skips(path: Path = CHECKOV_SKIPS) -> dict[str, dict[str, str]]:
    """target -> {check id: reason}."""
    config = load_yaml(path) or {}
    return {target: dict(config.get(target) or {}) for target in CHECKOV_TARGETS}


@dataclass(frozen=True)
class CheckovFinding:
    target: str
    check_id: str
    resource: str


def checkov_scan(workdir: Path, *, k8s_render: list[dict], compose: dict, dockerfile: Path = DOCKERFILE) -> dict:
    """checkov over the three targets, each in its own directory: {target: {"passed": n, "failed": [findings]}}."""
    binary = checkov_binary()
    if binary is None:
        raise FileNotFoundError("checkov is not installed: ./manage_all.sh test installs it in .venv-checkov")
    files = {
        "kubernetes": (workdir / "kubernetes" / "rendered.yaml", yaml.safe_dump_all(k8s_render, sort_keys=False)),
        "compose": (
            workdir / "compose" / "compose-services.yaml",
            yaml.safe_dump_all(compose_as_kubernetes(compose), sort_keys=False),
        ),
        "dockerfile": (workdir / "dockerfile" / "Dockerfile", dockerfile.read_text()),
    }
    for path, text in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = subprocess.run(
        [binary, "--directory", str(workdir), "--framework", "kubernetes", "dockerfile",
         "--output", "json", "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    if not result.stdout.strip():
        raise AssertionError(f"checkov printed nothing (exit {result.returncode}):\n{result.stderr[-3000:]}")
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    summary: dict[str, dict] = {target: {"passed": 0, "failed": []} for target in files}
    for report in reports:
        for outcome in ("passed_checks", "failed_checks"):
            for check in report.get("results", {}).get(outcome, []):
                target = Path(check["file_path"]).parts[1]
                if outcome == "passed_checks":
                    summary[target]["passed"] += 1
                else:
                    summary[target]["failed"].append(CheckovFinding(target, check["check_id"], check["resource"]))
    return summary
