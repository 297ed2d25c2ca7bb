"""Our system, started like tests/support/stack.py does: the real manage_all.sh with the harness's own
ports, databases (bench_*), Redis database and var directory."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from .plan import PORTS, ROOT, SEED_COUNT, STACK_DATABASE_PREFIX, STACK_REDIS_URL
from .processes import BenchError

# Variables that would point the copy at the developer's own databases.
DROPPED_ENV = ("USERS_DATABASE_URL", "PRODUCTS_DATABASE_URL", "GATEWAY_DATABASE_URL", "DJANGO_SECRET_KEY")


class Stack:
    """One isolated stack; up() and down() call ./manage_all.sh, token() asks it for an API token."""

    def __init__(self, stack_dir: Path, extra_env: dict | None = None):
        self.stack_dir = stack_dir
        base = {name: value for name, value in os.environ.items() if name not in DROPPED_ENV}
        self.env = {
            **base,
            "STACK_DIR": str(stack_dir),
            "GATEWAY_PORT": str(PORTS["stack-gateway"]),
            "USERS_PORT": str(PORTS["stack-users"]),
            "PRODUCTS_PORT": str(PORTS["stack-products"]),
            "HAPROXY_STATS_PORT": str(PORTS["stack-stats"]),
            "REPLICA_PORT_BASE": str(PORTS["stack-replica-base"]),
            "DATABASE_PREFIX": STACK_DATABASE_PREFIX,
            "REDIS_URL": STACK_REDIS_URL,
            "SEED_COUNT": str(SEED_COUNT),
            **(extra_env or {}),
        }

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "manage_all.sh"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # a Ctrl-C stops the harness, which then runs `down` itself
        )

    def up(self) -> None:
        """Start the default stack (3 users, 3 products, 2 gateways, HAProxy) from a clean Redis database."""
        self.down()
        shutil.rmtree(self.stack_dir, ignore_errors=True)
        flush_redis()
        result = self.manage("up")
        if result.returncode != 0:
            self.down()
            raise BenchError(f"manage_all.sh up failed: {(result.stdout + result.stderr).strip()[-800:]}")

    def down(self) -> None:
        """Stop every process at once (`down` stops them one by one), then let `down` clear its state."""
        pids = [pid for pid in self.pids().values() if _is_stack_process(pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_is_running(pid) for pid in pids):
            time.sleep(0.1)
        self.manage("down", timeout=120)

    def token(self, client: str) -> tuple[str | None, str]:
        """(token, '') or (None, why) from `manage_all.sh token <client> --unlimited`."""
        result = self.manage("token", client, "--unlimited", timeout=120)
        token = result.stdout.strip()
        if result.returncode != 0 or not token or len(token.split()) != 1:
            reason = (result.stderr or result.stdout).strip().splitlines()
            return None, f"`manage_all.sh token` exited {result.returncode}: {reason[-1] if reason else 'no output'}"
        return token, ""

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{PORTS['stack-' + service]}{path}"

    def pids(self) -> dict[str, int]:
        """{process name: pid} from the stack's pid files (gunicorn masters and the HAProxy master)."""
        pids = {}
        for path in sorted((self.stack_dir / "run").glob("*.pid")):
            try:
                pids[path.stem] = int(path.read_text().strip())
            except ValueError:
                continue
        return pids

    def cache_outcomes(self) -> dict[str, int]:
        """How the gateway replicas logged their page cache per request (HIT, MISS, ... or off)."""
        counts: dict[str, int] = {}
        for path in (self.stack_dir / "log").glob("gateway-*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if '"route": "user-product"' in line:
                    outcome = _json_field(line, "cache") or "off"
                    counts[outcome] = counts.get(outcome, 0) + 1
        return dict(sorted(counts.items()))

    def database_refusals(self) -> int:
        """Log lines where PostgreSQL refused a connection because max_connections was reached."""
        paths = (self.stack_dir / "log").glob("*.log")
        return sum(path.read_text(errors="replace").count("too many clients") for path in paths)

    def keep_logs(self, destination: Path) -> None:
        source = self.stack_dir / "log"
        if source.exists():
            shutil.copytree(source, destination, dirs_exist_ok=True)


def _is_stack_process(pid: int) -> bool:
    """A live gunicorn or HAProxy, not a pid reused by something else since the pid file was written."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"gunicorn" in command or b"haproxy" in command


def _is_running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _json_field(line: str, name: str):
    try:
        return json.loads(line).get(name)
    except (ValueError, AttributeError):
        return None


def flush_redis() -> None:
    """Empty the harness's own Redis database, so no cached page or rate-limit state survives a run."""
    client = redis.Redis.from_url(STACK_REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {STACK_REDIS_URL} is not usable: {exc}") from exc
    finally:
        client.close()
