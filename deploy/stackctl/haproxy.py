"""Render haproxy/haproxy.cfg.template, run HAProxy in master-worker mode, and talk to its runtime API."""

import csv
import io
import os
import signal
import socket
import subprocess

from . import config
from .config import SERVICES
from .processes import StackError, is_alive, log_file, pid_file, read_pid, wait_until

TEMPLATE = config.ROOT / "haproxy" / "haproxy.cfg.template"
BACKENDS = {"gateway": "be_gateway", "users": "be_users", "products": "be_products"}


def config_path():
    return config.stack_dir() / "haproxy" / "haproxy.cfg"


def socket_path():
    return config.run_dir() / "haproxy.sock"


def server_lines(service_name: str, indexes: list[int]) -> str:
    service = SERVICES[service_name]
    return "\n".join(
        f"    server {service_name}-{index} 127.0.0.1:{service.replica_port(index)} check" for index in indexes
    )


def server_maxconn(capacity: int, haproxy_instances: int) -> int:
    """How many requests one HAProxy instance may send one replica at once: its share of the replica's capacity
    (a service's threads, the gateway's GATEWAY_CONCURRENCY).

    Every HAProxy instance balances every replica on its own, so the shares must add up to at most the
    capacity: past it, requests would wait inside the replica, where no timeout bounds them.
    """
    if not 1 <= haproxy_instances <= capacity:
        raise StackError(f"{haproxy_instances} HAProxy instances cannot share {capacity} requests per replica")
    return capacity // haproxy_instances


def render(replicas: dict[str, list[int]]) -> str:
    """The local variant: explicit servers on loopback ports, one HAProxy."""
    values = {
        "GLOBAL_MAXCONN": os.environ.get("HAPROXY_MAXCONN", "4096"),
        "RUN_DIR": str(config.run_dir()),
        "HAPROXY_DIR": str(config.ROOT / "haproxy"),
        "QUEUE_TIMEOUT": os.environ.get("HAPROXY_QUEUE_TIMEOUT", "2s"),
        "SERVER_TIMEOUT": os.environ.get("HAPROXY_SERVER_TIMEOUT", "10s"),
        # HAPROXY_SERVER_MAXCONN overrides the arithmetic, for the overload tests only.
        "SERVER_MAXCONN": os.environ.get("HAPROXY_SERVER_MAXCONN") or str(server_maxconn(config.threads(), 1)),
        "GATEWAY_SERVER_MAXCONN": (
            os.environ.get("HAPROXY_SERVER_MAXCONN") or str(server_maxconn(config.gateway_concurrency(), 1))
        ),
        "SERVER_MAXQUEUE": os.environ.get("HAPROXY_SERVER_MAXQUEUE", "128"),
        "RESOLVERS": "",
        "BIND_ADDR": "127.0.0.1",
        "STATS_BIND_ADDR": "127.0.0.1",
        "GATEWAY_PORT": str(SERVICES["gateway"].public_port),
        "USERS_PORT": str(SERVICES["users"].public_port),
        "PRODUCTS_PORT": str(SERVICES["products"].public_port),
        "STATS_PORT": str(config.stats_port()),
        **{f"{name.upper()}_SERVERS": server_lines(name, indexes) for name, indexes in replicas.items()},
        # The panic-routing backends (be_*_live) route to the same replicas, checked for liveness only.
        **{f"{name.upper()}_LIVE_SERVERS": server_lines(name, indexes) for name, indexes in replicas.items()},
    }
    return fill(TEMPLATE.read_text(), values)


# The container variants: every replica listens on this port and is found by DNS, not by a port list.
CONTAINER_APP_PORT = 8000
DNS_RESOLVERS = {
    # Docker's embedded DNS answers with one A record per running container of a compose service.
    "compose": ("docker", "    nameserver docker 127.0.0.11:53"),
    # The cluster DNS (CoreDNS) from the pod's resolv.conf; a headless Service lists its ready pods.
    "k8s": ("cluster", "    parse-resolv-conf"),
}


def render_for_dns(
    target: str,
    *,
    threads: int,
    gateway_concurrency: int,
    haproxy_instances: int,
    slots: int = 10,
    namespace: str = "scaling",
    cluster_domain: str = "cluster.local",
    haproxy_dir: str = "/usr/local/etc/haproxy",
    run_dir: str = "/var/lib/haproxy",
) -> str:
    """The compose or k8s variant: `slots` server-template slots per backend, filled from DNS, for
    `haproxy_instances` HAProxy instances in front of service replicas of `threads` threads each and gateway
    replicas serving `gateway_concurrency` requests each."""
    if target not in DNS_RESOLVERS:
        raise StackError(f"unknown HAProxy target {target!r}: expected one of {', '.join(DNS_RESOLVERS)}")
    resolver, nameserver = DNS_RESOLVERS[target]
    resolvers = "\n".join(
        [
            f"resolvers {resolver}",
            nameserver,
            "    accepted_payload_size 8192",
            "    resolve_retries 3",
            "    timeout resolve 1s",
            "    timeout retry 1s",
            # Re-resolve every 2s, so a new replica takes traffic within seconds of becoming ready;
            # a replica gone from the answer keeps its slot 5s more, then leaves it.
            "    hold valid 2s",
            "    hold obsolete 5s",
            "    hold nx 5s",
            "    hold refused 5s",
            "    hold timeout 5s",
            "    hold other 5s",
        ]
    )

    def host(service_name: str, *, live: bool) -> str:
        if target == "k8s":
            # HAProxy's resolver ignores resolv.conf search domains: name the headless Service in full.
            # The panic-routing backends resolve <service>-live, a headless Service that also lists the
            # pods that are not ready (publishNotReadyAddresses); Docker's DNS lists every running container.
            return f"{service_name}{'-live' if live else ''}.{namespace}.svc.{cluster_domain}"
        return service_name

    def templates(service_name: str, *, live: bool = False) -> str:
        # init-addr none: start (and pass `haproxy -c`) before any replica exists; slots fill as DNS answers.
        return (
            f"    server-template {service_name}- {slots} {host(service_name, live=live)}:{CONTAINER_APP_PORT}"
            f" check resolvers {resolver} resolve-prefer ipv4 init-addr none"
        )

    values = {
        "GLOBAL_MAXCONN": "4096",
        "RUN_DIR": run_dir,
        "HAPROXY_DIR": haproxy_dir,
        "QUEUE_TIMEOUT": "2s",
        "SERVER_TIMEOUT": "10s",
        "SERVER_MAXCONN": str(server_maxconn(threads, haproxy_instances)),
        "GATEWAY_SERVER_MAXCONN": str(server_maxconn(gateway_concurrency, haproxy_instances)),
        "SERVER_MAXQUEUE": "128",
        "RESOLVERS": resolvers,
        "BIND_ADDR": "0.0.0.0",
        "STATS_BIND_ADDR": "0.0.0.0",
        "GATEWAY_PORT": str(SERVICES["gateway"].default_port),
        "USERS_PORT": str(SERVICES["users"].default_port),
        "PRODUCTS_PORT": str(SERVICES["products"].default_port),
        "STATS_PORT": "8404",
        **{f"{name.upper()}_SERVERS": templates(name) for name in SERVICES},
        **{f"{name.upper()}_LIVE_SERVERS": templates(name, live=True) for name in SERVICES},
    }
    return fill(TEMPLATE.read_text(), values)


def fill(template: str, values: dict[str, str]) -> str:
    """Replace every @@NAME@@; a placeholder left over is a bug, not a silent empty string."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    if "@@" in text:
        leftover = text[text.index("@@") : text.index("@@") + 40]
        raise StackError(f"unfilled placeholder in HAProxy template: {leftover}")
    return text


def write_and_check(text: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_suffix(".cfg.new")
    candidate.write_text(text)
    result = subprocess.run([config.haproxy_binary(), "-c", "-q", "-f", str(candidate)], capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"HAProxy rejected the generated config:\n{result.stdout}{result.stderr}")
    candidate.replace(path)


def start() -> int:
    config.run_dir().mkdir(parents=True, exist_ok=True)
    config.log_dir().mkdir(parents=True, exist_ok=True)
    with open(log_file("haproxy"), "ab") as log:
        process = subprocess.Popen(
            [config.haproxy_binary(), "-W", "-f", str(config_path()), "-p", str(pid_file("haproxy"))],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file("haproxy").write_text(str(process.pid))
    wait_until(lambda: socket_path().exists() and _answers(), timeout=15, what="HAProxy's runtime API")
    return process.pid


def _answers() -> bool:
    try:
        return "Pid:" in command("show info")
    except OSError:
        return False


def command(line: str, *, timeout: float = 2.0) -> str:
    """Send one command to the runtime API and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path()))
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def worker_pid() -> int | None:
    for line in command("show info").splitlines():
        if line.startswith("Pid:"):
            return int(line.split(":", 1)[1])
    return None


def save_server_state() -> None:
    """Keep drain/maint states across a reload (load-server-state-from-file)."""
    (config.run_dir() / "haproxy.state").write_text(command("show servers state"))


def reload() -> None:
    """Hitless reload: the master starts a new worker that takes the listening sockets over."""
    master = read_pid("haproxy")
    if master is None:
        raise StackError("HAProxy is not running")
    old_worker = worker_pid()
    save_server_state()
    os.kill(master, signal.SIGUSR2)

    def new_worker_serves() -> bool:
        try:
            return worker_pid() not in (None, old_worker)
        except OSError:
            return False

    wait_until(new_worker_serves, timeout=15, what="the reloaded HAProxy worker")


def stats() -> list[dict]:
    """`show stat` as a list of dicts (one per frontend, backend and server)."""
    text = command("show stat").lstrip("# ")
    return list(csv.DictReader(io.StringIO(text)))


def server_row(service_name: str, index: int) -> dict | None:
    for row in stats():
        if row["pxname"] == BACKENDS[service_name] and row["svname"] == f"{service_name}-{index}":
            return row
    return None


def set_state(service_name: str, index: int, state: str) -> None:
    """state: ready, drain or maint."""
    answer = command(f"set server {BACKENDS[service_name]}/{service_name}-{index} state {state}")
    if answer.strip():
        raise StackError(f"HAProxy refused 'set server state {state}': {answer.strip()}")


def stop() -> bool:
    pid = read_pid("haproxy")
    if pid is None:
        pid_file("haproxy").unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGUSR1)  # soft stop: finish in-flight requests
    try:
        wait_until(lambda: not is_alive(pid), timeout=10, what="HAProxy to stop")
    except StackError:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not is_alive(pid), timeout=5, what="HAProxy to stop")
    pid_file("haproxy").unlink(missing_ok=True)
    return True
