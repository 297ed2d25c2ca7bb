"""Changes to a running stack: start a replica, scale, roll out, reload HAProxy."""

from . import databases, haproxy
from .config import SERVICES
from .processes import (
    StackError,
    read_pid,
    replica_name,
    service_env,
    start_replica,
    stop_named,
    wait_ready,
    wait_until,
)
from .state import StackState


def public_ports() -> dict[str, int]:
    return {name: service.public_port for name, service in SERVICES.items()}


def replica_port(state: StackState, name: str, index: int) -> int:
    service = SERVICES[name]
    return service.public_port if state.mode == "direct" else service.replica_port(index)


def start(state: StackState, name: str, index: int) -> None:
    service = SERVICES[name]
    port = replica_port(state, name, index)
    env = service_env(service, databases.database_url(service, state.database), port, public_ports())
    start_replica(service, index, port, env)


def wait_started(state: StackState, name: str, index: int) -> None:
    wait_ready(replica_name(SERVICES[name], index), replica_port(state, name, index))


def _server_status(name: str, index: int) -> str:
    row = haproxy.server_row(name, index)
    return row["status"] if row else "absent"


def wait_lb_state(name: str, index: int, prefix: str, timeout: float = 30.0) -> None:
    wait_until(
        lambda: _server_status(name, index).startswith(prefix),
        timeout=timeout,
        what=f"HAProxy to show {name}-{index} {prefix}",
    )


def wait_all_up(state: StackState, timeout: float = 30.0) -> None:
    for name, indexes in state.replicas.items():
        for index in indexes:
            wait_lb_state(name, index, "UP", timeout)


def drain(name: str, index: int, timeout: float = 30.0) -> None:
    """Stop sending new requests to a replica and wait until its in-flight ones finish."""
    haproxy.set_state(name, index, "drain")

    def idle() -> bool:
        row = haproxy.server_row(name, index)
        return row is not None and row["scur"] == "0" and row["qcur"] in ("0", "")

    wait_until(idle, timeout=timeout, what=f"{name}-{index} to finish its requests")
    # Maintenance also stops health checks, so the restart is not reported as a failure.
    haproxy.set_state(name, index, "maint")


def require_haproxy(state: StackState | None, action: str) -> StackState:
    if state is None:
        raise StackError("the stack is not running (./manage_all.sh up)")
    if state.mode != "haproxy" or read_pid("haproxy") is None:
        raise StackError(f"{action} needs HAProxy in front of the replicas (the stack runs in {state.mode} mode)")
    return state


def reload_config(state: StackState) -> None:
    haproxy.write_and_check(haproxy.render(state.replicas))
    haproxy.reload()


def rollout(state: StackState, name: str, indexes: list[int] | None = None) -> None:
    """Restart every replica of a service (or the given ones), one at a time, without failing a request;
    a dead replica is started again."""
    unknown = sorted(set(indexes or []) - set(state.replicas[name]))
    if unknown:
        raise StackError(f"{name} has no replica {', '.join(map(str, unknown))}")
    for index in indexes or list(state.replicas[name]):
        drain(name, index)
        stop_named(replica_name(SERVICES[name], index))
        start(state, name, index)
        wait_started(state, name, index)
        haproxy.set_state(name, index, "ready")
        wait_lb_state(name, index, "UP")
        print(f"  {name}-{index} restarted", flush=True)


def scale(state: StackState, name: str, count: int) -> None:
    """Add replicas (start, wait ready, then add to HAProxy) or remove them (drain, remove, stop)."""
    if count < 1:
        raise StackError("a service needs at least one replica")
    current = state.replicas[name]
    if count > len(current):
        added = list(range(max(current) + 1, max(current) + 1 + count - len(current)))
        for index in added:
            start(state, name, index)
        for index in added:
            wait_started(state, name, index)
        state.replicas[name] = current + added
        state.save()
        reload_config(state)
        for index in added:
            wait_lb_state(name, index, "UP")
    elif count < len(current):
        removed = current[count:]
        for index in removed:
            drain(name, index)
        state.replicas[name] = current[:count]
        state.save()
        reload_config(state)
        for index in removed:
            stop_named(replica_name(SERVICES[name], index))
