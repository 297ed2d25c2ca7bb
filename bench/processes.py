"""Start the measured servers as real processes on loopback, wait until they answer, and always stop them."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .plan import ROOT, VENV


class BenchError(RuntimeError):
    """A failure of the harness or of a system it starts, reported in one line."""


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ephemeral_overlap(ports: list[int]) -> list[int]:
    """The ports that Linux may also hand out as client source ports (net.ipv4.ip_local_port_range)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return []
    return [port for port in ports if low <= port <= high]


def http_status(url: str, headers: dict | None = None, timeout: float = 2.0) -> int | None:
    """The status of one GET, or None when nothing answers."""
    # The harness's own http:// URLs, on loopback.
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


class Supervisor:
    """Owns every process the harness starts; stop_all() ends them (and their children) whatever happened."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(
        self, name: str, argv: list[str], *, env: dict, cwd: Path = ROOT, port: int | None = None, cgroup=None
    ) -> subprocess.Popen:
        """Start argv in its own session (Ctrl-C reaches the harness, which then stops it) and log to a file."""
        if port is not None and not port_is_free(port):
            raise BenchError(f"port {port} for {name} is already in use")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=cgroup.join if cgroup else None,
            )
        self.processes[name] = process
        return process

    def wait_http(self, name: str, url: str, *, timeout: float = 60.0) -> None:
        """Poll url until it answers 200; fail at once if the process died."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"{name} exited with {process.returncode}; see {self.log_dir / (name + '.log')}")
            if http_status(url) == 200:
                return
            time.sleep(0.1)
        raise BenchError(f"{name} did not answer 200 on {url} within {timeout:.0f}s")

    def stop(self, name: str, *, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        # Workers that outlived their master still hold the group id.
        _signal_group(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def gunicorn_argv(project_dir: Path, wsgi_module: str) -> list[str]:
    """gunicorn with the repository's shared settings file, as every replica of the stack runs."""
    return [
        str(VENV / "bin" / "gunicorn"),
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--chdir",
        str(project_dir),
        f"{wsgi_module}:application",
    ]


def gunicorn_env(port: int, *, workers: int, extra: dict | None = None) -> dict:
    """The environment deploy/gunicorn.conf.py reads, plus the Django variables of the project.

    Threads stay at the config's default, as for every replica of the stack: same gunicorn settings.
    """
    return {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
