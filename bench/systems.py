"""The systems the harness starts itself: the seed's Flask apps, the Django monolith, the floor and HAProxy."""

import os
import secrets
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from . import cgroups, database
from .plan import BENCH_DIR, MONOLITH_DATABASE, PORTS, SEED_COUNT, VENV
from .processes import BenchError, Supervisor, gunicorn_argv, gunicorn_env
from .wrk import Target

SEED_DIR = BENCH_DIR / "seed"
FLOOR_DIR = BENCH_DIR / "floor"
MONOLITH_DIR = BENCH_DIR / "monolith"
# The Django projects get the machine's cores as worker processes, as the stack's replicas do together.
WORKERS = os.cpu_count() or 1
SECRET_KEY = secrets.token_urlsafe(50)


def local_url(port: int, path: str = "/api/1/1/") -> str:
    return f"http://127.0.0.1:{port}{path}"


@contextmanager
def running(supervisor: Supervisor, name: str, argv: list[str], *, env: dict, port: int, ready_url: str, **kwargs):
    """A process that is ready on `ready_url` inside the block and stopped after it."""
    try:
        supervisor.start(name, argv, env=env, port=port, **kwargs)
        supervisor.wait_http(name, ready_url)
        yield
    finally:
        supervisor.stop(name)


def _flask(supervisor: Supervisor, name: str, script: str, port: int, ready_path: str, **env):
    argv = [str(VENV / "bin" / "python"), str(SEED_DIR / script)]
    full_env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1", **env}
    return running(supervisor, name, argv, env=full_env, port=port, ready_url=local_url(port, ready_path))


@contextmanager
def seed_monolith(supervisor: Supervisor) -> Iterator[Target]:
    """The seed's Flask monolith on Flask's development server."""
    port = PORTS["seed-monolith"]
    with _flask(supervisor, "seed-monolith", "monolith.py", port, "/api/1/1"):
        yield Target(local_url(port, "/api/1/1"))


@contextmanager
def seed_microservices(supervisor: Supervisor) -> Iterator[Target]:
    """The seed's user service, product service and gateway (sequential requests.get calls)."""
    ports = {name: PORTS[f"seed-{name}"] for name in ("users", "products", "gateway")}
    with ExitStack() as stack:
        stack.enter_context(_flask(supervisor, "seed-users", "user_service.py", ports["users"], "/user/1"))
        stack.enter_context(_flask(supervisor, "seed-products", "product_service.py", ports["products"], "/product/1"))
        stack.enter_context(
            _flask(
                supervisor,
                "seed-gateway",
                "gateway.py",
                ports["gateway"],
                "/api/1/1",
                USER_SERVICE_URL=f"http://localhost:{ports['users']}/user/",
                PRODUCT_SERVICE_URL=f"http://localhost:{ports['products']}/product/",
            )
        )
        yield Target(local_url(ports["gateway"], "/api/1/1"))


def floor_process(supervisor: Supervisor, name: str, port: int, *, workers: int, cgroup=None):
    env = gunicorn_env(port, workers=workers, extra={"DJANGO_SECRET_KEY": SECRET_KEY})
    argv = gunicorn_argv(FLOOR_DIR, "floor_project.wsgi")
    return running(supervisor, name, argv, env=env, port=port, ready_url=local_url(port), cgroup=cgroup)


@contextmanager
def floor(supervisor: Supervisor) -> Iterator[Target]:
    """A plain Django JsonResponse view: no middleware, no database."""
    port = PORTS["floor"]
    with floor_process(supervisor, "floor", port, workers=WORKERS):
        yield Target(local_url(port))


def monolith_env(port: int = 0) -> dict:
    extra = {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "monolith_project.settings",
        "DATABASE_URL": database.url(MONOLITH_DATABASE),
    }
    return gunicorn_env(port, workers=WORKERS, extra=extra)


def prepare_monolith() -> None:
    """bench_monolith exists, is migrated and holds the same demo ids as the stack."""
    database.ensure(MONOLITH_DATABASE)
    python = str(VENV / "bin" / "python")
    for args in (["migrate", "--noinput"], ["seed_catalog", "--count", str(SEED_COUNT)]):
        result = subprocess.run(
            [python, "manage.py", *args], cwd=MONOLITH_DIR, env=monolith_env(), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise BenchError(f"monolith: manage.py {args[0]} failed: {result.stderr.strip()[-500:]}")


# The mixed workload's monolith runs as many gunicorn workers as our default stack has replicas (3 users,
# 3 products, 2 gateways), each with the same threads, and caches in a Redis database of its own.
MONOLITH_REDIS_URL = "redis://127.0.0.1:6379/11"


def cached_monolith_processes() -> int:
    from stackctl.config import SERVICES

    return sum(service.default_replicas for service in SERVICES.values())


@contextmanager
def cached_monolith(supervisor: Supervisor) -> Iterator[Target]:
    """The monolith with Django's Redis cache in front of its reads (catalog.caching), emptied first, on as
    many workers as our stack has replicas; its database must hold the catalogue already."""
    prepare_monolith()
    redis.Redis.from_url(MONOLITH_REDIS_URL, socket_connect_timeout=2).flushdb()
    port = PORTS["django-monolith"]
    env = {
        **monolith_env(port),
        "GUNICORN_WORKERS": str(cached_monolith_processes()),
        "MONOLITH_CACHE": "true",
        "REDIS_URL": MONOLITH_REDIS_URL,
    }
    argv = gunicorn_argv(MONOLITH_DIR, "monolith_project.wsgi")
    with running(supervisor, "django-monolith-cached", argv, env=env, port=port, ready_url=local_url(port)):
        yield Target(local_url(port))


@contextmanager
def django_monolith(supervisor: Supervisor) -> Iterator[Target]:
    """One Django project, one PostgreSQL database, one DRF view reading a user and a product."""
    prepare_monolith()
    port = PORTS["django-monolith"]
    argv = gunicorn_argv(MONOLITH_DIR, "monolith_project.wsgi")
    with running(supervisor, "django-monolith", argv, env=monolith_env(port), port=port, ready_url=local_url(port)):
        yield Target(local_url(port))


HAPROXY_GLOBAL = """global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout queue 2s
    http-reuse always
"""


def haproxy(supervisor: Supervisor, name: str, config: str, port: int, ready_url: str, config_dir: Path):
    """HAProxy in the foreground on a config checked with `haproxy -c` first."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{name}.cfg"
    path.write_text(config)
    check = subprocess.run(["haproxy", "-c", "-q", "-f", str(path)], capture_output=True, text=True)
    if check.returncode != 0:
        raise BenchError(f"HAProxy rejected {path}: {(check.stdout + check.stderr).strip()}")
    return running(
        supervisor, name, ["haproxy", "-db", "-f", str(path)], env=dict(os.environ), port=port, ready_url=ready_url
    )


@contextmanager
def haproxy_alone(supervisor: Supervisor, config_dir: Path) -> Iterator[Target]:
    """The ceiling: HAProxy answering by itself, no backend."""
    port = PORTS["haproxy-alone"]
    config = HAPROXY_GLOBAL + (
        f"frontend fe_alone\n    bind 127.0.0.1:{port}\n"
        '    http-request return status 200 content-type application/json string "{}"\n'
    )
    with haproxy(supervisor, "haproxy-alone", config, port, local_url(port), config_dir):
        yield Target(local_url(port))


LB_SOCKET = Path(tempfile.gettempdir()) / "scaling-bench-lb.sock"


def scaling_config(port: int, replica_ports: list[int]) -> str:
    """One HAProxy frontend over N floor replicas, with the stack's per-server limits and a runtime API."""
    servers = "\n".join(f"    server floor-{i} 127.0.0.1:{p}" for i, p in enumerate(replica_ports, start=1))
    return HAPROXY_GLOBAL.replace("global\n", f"global\n    stats socket {LB_SOCKET} mode 600 level admin\n") + (
        "    default-server maxconn 16 maxqueue 128\n"
        f"frontend fe_scaling\n    bind 127.0.0.1:{port}\n    default_backend be_floor\n"
        f"backend be_floor\n    balance leastconn\n{servers}\n"
    )


def haproxy_command(line: str) -> str:
    """One command to the scaling HAProxy's runtime API."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(LB_SOCKET))
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


@dataclass
class ScaledFloor:
    """N floor replicas behind one HAProxy; activate(n) leaves the first n in service and the rest in maint."""

    target: Target
    replicas: int
    pids: list[int]

    def activate(self, count: int) -> None:
        for index in range(1, self.replicas + 1):
            state = "ready" if index <= count else "maint"
            answer = haproxy_command(f"set server be_floor/floor-{index} state {state}")
            if answer.strip():
                raise BenchError(f"HAProxy refused to set floor-{index} {state}: {answer.strip()}")


@contextmanager
def scaled_floor(supervisor: Supervisor, replicas: int, share: float | None, config_dir: Path) -> Iterator[ScaledFloor]:
    """N one-worker floor replicas, each in its own CPU-capped cgroup when `share` is set, behind HAProxy."""
    base = PORTS["scaling-replica-base"]
    ports = [base + index for index in range(1, replicas + 1)]
    caps = [cgroups.create(f"{index}", share) for index in range(1, replicas + 1)] if share else []
    try:
        with ExitStack() as stack:
            for index, port in enumerate(ports):
                cap = caps[index] if caps else None
                stack.enter_context(
                    floor_process(supervisor, f"floor-replica-{index + 1}", port, workers=1, cgroup=cap)
                )
            lb_port = PORTS["scaling-lb"]
            config = scaling_config(lb_port, ports)
            stack.enter_context(haproxy(supervisor, "scaling-lb", config, lb_port, local_url(lb_port), config_dir))
            pids = [supervisor.processes[f"floor-replica-{index}"].pid for index in range(1, replicas + 1)]
            yield ScaledFloor(Target(local_url(lb_port)), replicas, pids)
    finally:
        for cap in caps:
            cap.remove()
