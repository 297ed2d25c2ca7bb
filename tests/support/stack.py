"""Start an isolated copy of the stack with manage_all.sh: own ports, databases, Redis db and var dir."""

import json
import os
import socket
import subprocess
from pathlib import Path

import httpx
import psycopg2
import redis
from psycopg2 import sql

from stackctl.load import FreshPairs, Load, mixed

ROOT = Path(__file__).resolve().parents[2]
DATABASES = ("scaling_users", "scaling_products", "scaling_gateway")
EDGE_ADDRESS = "127.0.0.2"
EDGE_NETWORK = f"{EDGE_ADDRESS}/32"


class Stack:
    """One isolated stack; `up()` and `down()` call the real manage_all.sh."""

    def __init__(
        self,
        name: str,
        port_base: int,
        stack_dir: Path,
        redis_db: int = 0,
        *,
        postgres_port: int = 5432,
        redis_url: str | None = None,
        seed_count: int = 20,
    ):
        self.name = name
        self.port_base = port_base
        self.stack_dir = stack_dir
        self.database_prefix = f"test_{name}_"
        self.postgres_port = postgres_port
        self.seed_count = seed_count
        self._tokens: dict[str, str] = {}
        self._pairs: FreshPairs | None = None
        self.env = {
            **os.environ,
            "STACK_DIR": str(stack_dir),
            "GATEWAY_PORT": str(port_base),
            "USERS_PORT": str(port_base + 1),
            "PRODUCTS_PORT": str(port_base + 2),
            "HAPROXY_STATS_PORT": str(port_base + 4),
            "REPLICA_PORT_BASE": str(port_base + 1000),
            "DATABASE_PREFIX": self.database_prefix,
            "POSTGRES_PORT": str(postgres_port),
            "REDIS_URL": redis_url or f"redis://127.0.0.1:6379/{redis_db}",
            "SEED_COUNT": str(seed_count),
            # The TLS edge of tests/e2e/test_tls_edge.py connects from this address, and only it is believed.
            "HAPROXY_EDGE_NETWORKS": EDGE_NETWORK,
        }

    def manage(
        self, *args: str, check: bool = True, timeout: float = 180, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(ROOT / "manage_all.sh"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage_all.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def dsn(self, database: str) -> str:
        """The URL of one of the stack's databases: users, products or gateway."""
        return f"postgres://postgres@127.0.0.1:{self.postgres_port}/{self.database_prefix}scaling_{database}"

    def connect(self, database: str):
        """A psycopg2 connection to one of the stack's databases: users, products or gateway."""
        return psycopg2.connect(self.dsn(database))

    def reset_databases(self) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.postgres_port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in DATABASES:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database_prefix + name)
                    )
                )
        connection.close()

    def reset_redis(self) -> None:
        """A fresh database under an old Redis would meet old cached pages; start both empty."""
        redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()

    def up(self, *args: str) -> subprocess.CompletedProcess:
        self.reset_databases()
        self.reset_redis()
        return self.manage("up", *args)

    def down(self) -> subprocess.CompletedProcess:
        return self.manage("down", check=False)

    def url(self, service: str) -> str:
        offset = {"gateway": 0, "users": 1, "products": 2, "stats": 4}[service]
        return f"http://127.0.0.1:{self.port_base + offset}"

    def replica_port(self, service: str, index: int) -> int:
        return self.port_base + 1000 + {"gateway": 0, "users": 100, "products": 200}[service] + index

    def request_count(self, service: str, path: str, method: str = "GET") -> int:
        """How many requests the service's own replicas logged for this path (their JSON request lines)."""
        count = 0
        for log in (self.stack_dir / "log").glob(f"{service}-*.log"):
            for line in log.read_text().splitlines():
                if line.startswith("{") and '"logger": "svc_common.request"' in line:
                    record = json.loads(line)
                    count += record.get("path") == path and record.get("method") == method
        return count

    def pid(self, name: str) -> int:
        return int((self.stack_dir / "run" / f"{name}.pid").read_text())

    def token(self, username: str = "e2e-client", *options: str) -> str:
        """A fresh API token from `manage_all.sh token` (unlimited unless options say otherwise)."""
        return self.manage("token", username, *(options or ("--unlimited",))).stdout.strip()

    def auth_headers(self, username: str = "e2e-client") -> dict:
        if username not in self._tokens:
            self._tokens[username] = self.token(username)
        return {"Authorization": f"Token {self._tokens[username]}"}

    def service_headers(self) -> dict:
        """What the gateway sends to the services: the shared credential manage_all.sh generated."""
        return {"X-Service-Token": (self.stack_dir / "service_auth_token").read_text().strip()}

    def haproxy(self, command: str) -> str:
        """One command to HAProxy's runtime API (admin level), e.g. "set server be_users/users-1 state drain"."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stack_dir / "run" / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer.decode()

    def reroute(self, backend: str, server: str, port: int) -> None:
        """Point a server of HAProxy at another loopback port (a delay proxy, or back at the replica); it
        keeps its state, so no slow start (as after maintenance) throttles it."""
        answer = self.haproxy(f"set server {backend}/{server} addr 127.0.0.1 port {port}").strip()
        assert "changed" in answer or "no need to change" in answer, answer

    @property
    def pairs(self) -> FreshPairs:
        """Aggregates of a user and a product no test has read, shared by every load of the session. Ids 1
        to 50 are left to the tests that read fixed ids and rely on no one having read them; the newer half
        of the catalogue to the drill (test_drill.py)."""
        if self._pairs is None:
            ids = list(range(51, self.seed_count // 2 + 1))
            self._pairs = FreshPairs(ids, ids)
        return self._pairs

    def load(self, url: str | None = None, *, plan=None, **options) -> Load:
        """A bounded load: one URL again and again, or through the gateway a plan, by default the mixed one
        (fresh aggregates, a hot page, keyed creates and PATCHes, reads of them)."""
        options.setdefault("headers", self.auth_headers())
        if url is not None:
            return Load(url, **options)
        return Load(self.url("gateway"), plan=plan or mixed(self.pairs, hot_path="/api/1/1/"), **options)

    def replicas(self, service: str) -> list[int]:
        """The replica indexes of a service, as manage_all.sh recorded them."""
        return json.loads((self.stack_dir / "stack.json").read_text())["replicas"][service]

    def client(self, service: str = "gateway", **kwargs) -> httpx.Client:
        headers = self.auth_headers() if service == "gateway" else self.service_headers()
        return httpx.Client(base_url=self.url(service), timeout=10, headers=headers, **kwargs)
