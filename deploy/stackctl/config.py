"""Where everything lives and which ports it uses; every value can be overridden by environment."""

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("VENV_DIR", ROOT / ".venv"))


@dataclass(frozen=True)
class Service:
    """A Django project run as one or more gunicorn replicas."""

    name: str
    project: str
    port_env: str
    default_port: int
    replica_offset: int
    default_replicas: int
    default_database: str
    seed_command: str | None
    # Which of the project's entry points gunicorn serves (GUNICORN_INTERFACE, deploy/gunicorn.conf.py).
    interface: str = "wsgi"

    @property
    def application(self) -> str:
        return f"{self.project}.{self.interface}:application"

    @property
    def project_dir(self) -> Path:
        return ROOT / self.project

    @property
    def public_port(self) -> int:
        return int(os.environ.get(self.port_env, self.default_port))

    def replica_port(self, index: int) -> int:
        return replica_port_base() + self.replica_offset + index

    def database_url(self, sqlite_dir: Path | None) -> str:
        explicit = os.environ.get(f"{self.name.upper()}_DATABASE_URL")
        if explicit:
            return explicit
        if sqlite_dir is not None:
            return f"sqlite:///{sqlite_dir / (self.default_database + '.sqlite3')}"
        host = os.environ.get("POSTGRES_HOST", "127.0.0.1")
        port = os.environ.get("POSTGRES_PORT", "5432")
        user = os.environ.get("POSTGRES_USER", "postgres")
        return f"postgres://{user}@{host}:{port}/{database_prefix()}{self.default_database}"


SERVICES = {
    "users": Service("users", "user_project", "USERS_PORT", 8001, 100, 3, "scaling_users", "seed_users"),
    "products": Service(
        "products", "product_project", "PRODUCTS_PORT", 8002, 200, 3, "scaling_products", "seed_products"
    ),
    "gateway": Service("gateway", "gateway_project", "GATEWAY_PORT", 8000, 0, 2, "scaling_gateway", None, "asgi"),
}
# Start order: the gateway depends on the other two.
START_ORDER = ("users", "products", "gateway")


# Threads per replica (GUNICORN_THREADS), the same locally, in compose/.env.example and deploy/k8s config.env
# (tests/deploy checks): HAProxy's server maxconn and the PostgreSQL connection budget follow from it.
DEFAULT_THREADS = 4


def threads() -> int:
    return int(os.environ.get("GUNICORN_THREADS", DEFAULT_THREADS))


# Requests one gateway replica serves at once (GATEWAY_CONCURRENCY), the same locally, in compose/.env.example and
# deploy/k8s config.env (tests/deploy checks). The gateway serves its JSON reads on its event loop, so its
# capacity is not its threads: HAProxy's maxconn for the gateway follows from this instead (docs/benchmark.md,
# "Settings chosen by measurement"). At most UPSTREAM_POOL_SIZE, the upstream connections a replica keeps.
DEFAULT_GATEWAY_CONCURRENCY = 16


def gateway_concurrency() -> int:
    return int(os.environ.get("GATEWAY_CONCURRENCY", DEFAULT_GATEWAY_CONCURRENCY))


def replica_port_base() -> int:
    return int(os.environ.get("REPLICA_PORT_BASE", "9000"))


def database_prefix() -> str:
    return os.environ.get("DATABASE_PREFIX", "")


def stats_port() -> int:
    return int(os.environ.get("HAPROXY_STATS_PORT", "8404"))


def stack_dir() -> Path:
    return Path(os.environ.get("STACK_DIR", ROOT / "var"))


def run_dir() -> Path:
    return stack_dir() / "run"


def log_dir() -> Path:
    return stack_dir() / "log"


def haproxy_binary() -> str | None:
    return os.environ.get("HAPROXY_BIN") or shutil.which("haproxy")


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def drill_dir() -> Path:
    return stack_dir() / "drill"


def seed_count() -> int:
    return int(os.environ.get("SEED_COUNT", "100"))


def local_secret(env_name: str, nbytes: int = 50) -> str:
    """A secret from the environment, else one generated once (nbytes of randomness) and kept (mode 600) under var/."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = stack_dir() / env_name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()
