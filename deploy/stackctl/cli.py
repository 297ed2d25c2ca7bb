"""Sub-commands of manage_all.sh."""

import argparse
import os
import subprocess
import sys

from . import config, databases, haproxy, operations, status
from .config import SERVICES, START_ORDER
from .processes import StackError, all_pid_names, read_pid, stop_named
from .state import StackState


def cmd_setup(args) -> int:
    backend = databases.choose_backend()
    databases.prepare(backend)
    print(f"setup done: databases migrated and seeded ({backend}).")
    return 0


def cmd_up(args) -> int:
    existing = StackState.load()
    if existing and any(read_pid(name) for name in all_pid_names()):
        print("The stack is already running; `./manage_all.sh down` first to restart it.")
        return 0
    backend = databases.choose_backend()
    databases.prepare(backend)
    mode = "haproxy"
    if args.direct:
        mode = "direct"
    elif config.haproxy_binary() is None:
        print("HAProxy is not installed (apt-get install haproxy); running one replica per service, direct.")
        mode = "direct"
    wanted = {"users": args.replicas, "products": args.replicas, "gateway": args.gateway_replicas}
    services = [name for name in START_ORDER if name in args.services.split(",")]
    replicas = {name: list(range(1, (1 if mode == "direct" else wanted[name]) + 1)) for name in services}
    state = StackState(mode=mode, database=backend, replicas=replicas)
    state.save()
    try:
        for name in services:
            for index in replicas[name]:
                operations.start(state, name, index)
        for name in services:
            for index in replicas[name]:
                operations.wait_started(state, name, index)
        if mode == "haproxy":
            haproxy.write_and_check(haproxy.render(replicas))
            haproxy.start()
            operations.wait_all_up(state)
    except StackError:
        cmd_down(args)
        raise
    _print_urls(state)
    return 0


def _print_urls(state: StackState) -> None:
    ports = operations.public_ports()
    counts = ", ".join(f"{name} ×{len(indexes)}" for name, indexes in state.replicas.items())
    print(f"Ready ({state.mode}, {state.database}; {counts}).")
    username, password = databases.demo_login()
    print(f"  gateway   http://127.0.0.1:{ports['gateway']}/   start here: the browsable API, its docs, tokens")
    print(f"            log in as {username} / {password}")
    print(f"  users     http://127.0.0.1:{ports['users']}/api/users/   admin: /admin/")
    print(f"  products  http://127.0.0.1:{ports['products']}/api/products/   admin: /admin/")
    if state.mode == "haproxy":
        print(f"  haproxy   http://127.0.0.1:{config.stats_port()}/stats   metrics: /metrics")
    print(f"  logs      {config.log_dir()}  (./manage_all.sh logs)")


def cmd_down(args) -> int:
    stopped = []
    if haproxy.stop():
        stopped.append("haproxy")
    for name in all_pid_names():
        if stop_named(name):
            stopped.append(name)
    StackState.clear()
    print(f"Stopped: {', '.join(stopped)}." if stopped else "Nothing was running.")
    return 0


def cmd_status(args) -> int:
    """One line per process: pid, HAProxy state and last check, requests served, the last error in its log."""
    state = StackState.load()
    if state is None:
        print("The stack is not running.")
        return 1
    print(status.header())
    for row in status.rows(state):
        print(row.line())
    if state.mode == "haproxy":
        print(f"HAProxy stats http://127.0.0.1:{config.stats_port()}/stats, metrics /metrics; logs {config.log_dir()}")
    return 0


def cmd_logs(args) -> int:
    pattern = f"{args.name}*.log" if args.name else "*.log"
    files = sorted(str(path) for path in config.log_dir().glob(pattern)) if config.log_dir().exists() else []
    if not files:
        print(f"No log files match {pattern} in {config.log_dir()}.", file=sys.stderr)
        return 1
    tail = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + files
    return subprocess.call(tail)


def cmd_test(args) -> int:
    suites = [
        ("user", "user_project"),
        ("product", "product_project"),
        ("gateway", "gateway_project"),
        ("deploy", None),
        ("bench", None),
        ("e2e", None),
    ]
    pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    selected = [suite for suite in suites if not args.suite or suite[0] in args.suite]
    failed = []
    for suite, project in selected:
        env = dict(os.environ)
        if project:
            env["DJANGO_SETTINGS_MODULE"] = f"{project}.settings_test"
            env["PYTHONPATH"] = str(config.ROOT / project)
        print(f"==> {suite} tests", flush=True)
        code = subprocess.call(
            [str(config.VENV / "bin" / "python"), "-m", "pytest", f"tests/{suite}", *pytest_args],
            cwd=config.ROOT,
            env=env,
        )
        if code != 0:
            failed.append(suite)
    print(f"Suites failed: {', '.join(failed)}" if failed else "All test suites passed.")
    return 1 if failed else 0


# The OpenAPI documents, in the order they are built: the gateway's contract is made from the services'.
OPENAPI_DOCUMENTS = (
    ("user_project", "../docs/openapi/users.yaml"),
    ("product_project", "../docs/openapi/products.yaml"),
    ("gateway_project", "apidocs/gateway.yaml"),
)


def cmd_openapi(args) -> int:
    """Regenerate every OpenAPI document from the code (drf-spectacular), the services' first."""
    for project, target in OPENAPI_DOCUMENTS:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": f"{project}.settings_test"}
        command = [str(config.VENV / "bin" / "python"), "manage.py", "spectacular", "--validate", "--fail-on-warn"]
        code = subprocess.call([*command, "--file", target], cwd=config.ROOT / project, env=env)
        if code != 0:
            print(f"error: {project}'s OpenAPI document could not be generated.", file=sys.stderr)
            return code
        print(f"{project}: {(config.ROOT / project / target).resolve().relative_to(config.ROOT)}")
    return 0


def cmd_scale(args) -> int:
    state = operations.require_haproxy(StackState.load(), "scale")
    operations.scale(state, args.service, args.count)
    print(f"{args.service}: {len(state.replicas[args.service])} replicas.")
    return 0


def cmd_rollout(args) -> int:
    state = operations.require_haproxy(StackState.load(), "rollout")
    operations.rollout(state, args.service, args.replica)
    which = ", ".join(f"{args.service}-{index}" for index in args.replica) if args.replica else "every replica"
    print(f"{args.service}: {which} restarted.")
    return 0


def cmd_reload(args) -> int:
    state = operations.require_haproxy(StackState.load(), "reload")
    operations.reload_config(state)
    print("HAProxy reloaded.")
    return 0


def cmd_drill(args) -> int:
    """Break the running stack in turn under load; report what clients saw (stackctl.drill)."""
    from . import drill  # the load generator's httpx: imported only when a drill runs

    state = operations.require_haproxy(StackState.load(), "drill")
    report = drill.run(state, quick=args.quick, with_database=args.with_database, read_ids=args.read_ids)
    return 0 if report["verdict"]["ok"] else 1


def cmd_manage(args) -> int:
    """Run a project's manage.py with the environment its replicas get (e.g. createsuperuser)."""
    state = StackState.load()
    backend = state.database if state else databases.choose_backend()
    manage_args = args.manage_args[1:] if args.manage_args[:1] == ["--"] else args.manage_args
    return databases.manage_interactive(SERVICES[args.service], backend, *manage_args)


def cmd_token(args) -> int:
    """Print only a fresh token, so `TOKEN=$(./manage_all.sh token alice)` works."""
    state = StackState.load()
    backend = state.database if state else databases.choose_backend()
    if state is None:
        databases.manage(SERVICES["gateway"], backend, "migrate", "--noinput")
    options = ["--unlimited"] if args.unlimited else (["--rate", args.rate] if args.rate else [])
    print(databases.manage(SERVICES["gateway"], backend, "issue_token", args.username, *options).strip())
    return 0


def id_range(text: str) -> tuple[int, int]:
    """LOW-HIGH, both positive integers, LOW <= HIGH."""
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit()) or not 0 < int(low) <= int(high):
        raise argparse.ArgumentTypeError(f"{text!r} is not LOW-HIGH (e.g. 10001-20000)")
    return int(low), int(high)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage_all.sh", description="Run the user, product and gateway services.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("setup", help="create, migrate and seed the databases").set_defaults(func=cmd_setup)

    up = sub.add_parser("up", help="start everything in the background and wait until it is ready")
    up.add_argument("--replicas", type=int, default=3, help="replicas of users and products (default 3)")
    up.add_argument("--gateway-replicas", type=int, default=2, help="gateway replicas (default 2)")
    up.add_argument("--direct", action="store_true", help="no HAProxy: one replica per service on its port")
    up.add_argument("--services", default=",".join(START_ORDER), help=argparse.SUPPRESS)
    up.set_defaults(func=cmd_up)

    sub.add_parser("down", help="stop everything `up` started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="one line per process").set_defaults(func=cmd_status)

    logs = sub.add_parser("logs", help="show (and follow) the logs")
    logs.add_argument("name", nargs="?", help="a service or replica name, e.g. gateway or users-2")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("--no-follow", dest="follow", action="store_false")
    logs.set_defaults(func=cmd_logs)

    test = sub.add_parser("test", help="run every test suite")
    test.add_argument("--suite", action="append", choices=["user", "product", "gateway", "deploy", "bench", "e2e"])
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=cmd_test)

    sub.add_parser("openapi", help="regenerate the OpenAPI documents from the code").set_defaults(func=cmd_openapi)

    scale = sub.add_parser("scale", help="add or remove replicas of a running service")
    scale.add_argument("service", choices=list(SERVICES))
    scale.add_argument("count", type=int)
    scale.set_defaults(func=cmd_scale)

    rollout = sub.add_parser("rollout", help="restart every replica of a service, one at a time")
    rollout.add_argument("service", choices=list(SERVICES))
    rollout.add_argument(
        "--replica", type=int, action="append", help="only this replica (repeatable), e.g. one found dead"
    )
    rollout.set_defaults(func=cmd_rollout)

    sub.add_parser("reload", help="reload HAProxy's configuration without dropping a connection").set_defaults(
        func=cmd_reload
    )

    drill_parser = sub.add_parser("drill", help="a fault drill under load against the running stack")
    drill_parser.add_argument("--quick", action="store_true", help="short phases: under 2 minutes")
    drill_parser.add_argument(
        "--with-database", action="store_true", help="also restart PostgreSQL (it touches a shared server)"
    )
    drill_parser.add_argument(
        "--read-ids",
        type=id_range,
        metavar="LOW-HIGH",
        help="the user and product ids aggregate reads take, e.g. rows no one else reads (default: the newest 10,000)",
    )
    drill_parser.set_defaults(func=cmd_drill)

    manage = sub.add_parser("manage", help="run manage.py of a service with the stack's environment")
    manage.add_argument("service", choices=list(SERVICES))
    manage.add_argument("manage_args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    token = sub.add_parser("token", help="print an API token for an API client")
    token.add_argument("username")
    limits = token.add_mutually_exclusive_group()
    limits.add_argument("--rate", help='rate limit for this client, e.g. "100/minute"')
    limits.add_argument("--unlimited", action="store_true", help="exempt this client from rate limiting")
    token.set_defaults(func=cmd_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
