"""Start, stop and wait for gunicorn replicas, tracked by pid files."""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import config
from .config import Service


class StackError(RuntimeError):
    """A failure to report to the operator in one line."""


def replica_name(service: Service, index: int) -> str:
    return f"{service.name}-{index}"


def pid_file(name: str) -> Path:
    return config.run_dir() / f"{name}.pid"


def log_file(name: str) -> Path:
    return config.log_dir() / f"{name}.log"


def read_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_alive(pid) else None


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        # Not our child: an orphan whose reaper (PID 1 in some containers) may never reap it.
        return not is_zombie(pid)


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def service_env(service: Service, database_url: str, port: int, upstream_ports: dict[str, int]) -> dict:
    """The environment a replica runs with: the same variable names compose and Kubernetes use."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": f"{service.project}.settings",
            "DJANGO_SECRET_KEY": config.local_secret("DJANGO_SECRET_KEY"),
            "SERVICE_AUTH_TOKEN": config.local_secret("SERVICE_AUTH_TOKEN"),
            "DATABASE_URL": database_url,
            "REDIS_URL": config.redis_url(),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_INTERFACE": service.interface,
            "DJANGO_SECURE_COOKIES": os.environ.get("DJANGO_SECURE_COOKIES", "false"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if service.name == "gateway":
        env["USERS_SERVICE_URL"] = f"http://127.0.0.1:{upstream_ports['users']}"
        env["PRODUCTS_SERVICE_URL"] = f"http://127.0.0.1:{upstream_ports['products']}"
        env["HAPROXY_STATS_URL"] = f"http://127.0.0.1:{config.stats_port()}/stats;csv"
    return env


def ensure_port_free(port: int) -> None:
    """Refuse to start on a port someone else holds: its /readyz would fool the readiness wait."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise StackError(f"port {port} is already in use") from exc


def start_replica(service: Service, index: int, port: int, env: dict) -> int:
    """Start one gunicorn replica in its own session; returns its pid."""
    name = replica_name(service, index)
    ensure_port_free(port)
    config.run_dir().mkdir(parents=True, exist_ok=True)
    config.log_dir().mkdir(parents=True, exist_ok=True)
    env = {**env, "GUNICORN_PROC_NAME": name}
    # prometheus-client's multiprocess mode: every worker of this replica writes here; emptied at each start.
    metrics_dir = config.run_dir() / "metrics" / name
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    with open(log_file(name), "ab") as log:
        process = subprocess.Popen(
            [
                str(config.VENV / "bin" / "gunicorn"),
                "-c",
                str(config.ROOT / "deploy" / "gunicorn.conf.py"),
                "--chdir",
                str(service.project_dir),
                service.application,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(name).write_text(str(process.pid))
    return process.pid


def http_status(url: str, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback only)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll until predicate() is true; raise StackError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_ready(name: str, port: int, timeout: float = 60.0) -> None:
    """Wait until the replica answers 200 on /readyz; fail early if it died."""

    def ready() -> bool:
        if read_pid(name) is None:
            raise StackError(f"{name} exited during start-up; see {log_file(name)}")
        return http_status(f"http://127.0.0.1:{port}/readyz") == 200

    wait_until(ready, timeout=timeout, what=f"{name} on port {port} to be ready")


def stop_pid(pid: int, *, timeout: float = 30.0) -> None:
    """SIGTERM (gunicorn finishes in-flight requests), then SIGKILL if it overstays."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait_until(lambda: not is_alive(pid), timeout=timeout, what=f"pid {pid} to exit")
    except StackError:
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not is_alive(pid), timeout=5, what=f"pid {pid} to die")


def stop_named(name: str, *, timeout: float = 30.0) -> bool:
    pid = read_pid(name)
    if pid is not None:
        stop_pid(pid, timeout=timeout)
    pid_file(name).unlink(missing_ok=True)
    return pid is not None


def all_pid_names() -> list[str]:
    if not config.run_dir().exists():
        return []
    return sorted(path.stem for path in config.run_dir().glob("*.pid"))
