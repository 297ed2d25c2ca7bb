"""The scenarios of issue 6: each starts what it measures, measures it at the plan's concurrencies, stops it."""

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import cgroups, data, database, pair, proc, systems, wrk
from .measure import Results, Runner, with_load
from .plan import DATA_DATABASES, SEED_COUNT, STACK_REDIS_URL, Plan
from .processes import BenchError, Supervisor, http_status
from .stack import Stack
from .wrk import Target

STACK_DIR = Path(tempfile.gettempdir()) / "scaling-bench-stack"
# The shared service credential the stack's services check; set by the harness so it can call them directly.
SERVICE_AUTH_TOKEN = secrets.token_urlsafe(32)
API_CLIENT = "bench-client"
# 3 users + 3 products + 2 gateway replicas, 4 threads each, each thread with a persistent connection.
STACK_DB_CONNECTIONS = 32


@dataclass
class Context:
    plan: Plan
    runner: Runner
    supervisor: Supervisor
    results: Results
    run_dir: Path
    # Whether our stack's databases hold the plan's catalogue (bench/scale.py loads it once per run).
    catalogue_ready: bool = False

    @property
    def config_dir(self) -> Path:
        return self.run_dir / "config"


def probe(target: Target) -> None:
    """One GET before loading: a system that does not answer 200 would only measure its errors."""
    status = http_status(target.url, target.headers, timeout=10)
    if status != 200:
        raise BenchError(f"GET {target.url} answered {status}, not 200")


def sweep(ctx: Context, scenario: str, system: str, target: Target) -> None:
    """Probe, warm up, then one measurement per concurrency of the plan."""
    probe(target)
    ctx.runner.warm_up(target)
    for concurrency in ctx.plan.concurrencies:
        ctx.runner.measure(scenario, system, target, concurrency)


def seed_flask(ctx: Context) -> None:
    """a. The seed's before: the Flask monolith, then the Flask microservices."""
    with systems.seed_monolith(ctx.supervisor) as target:
        sweep(ctx, "a. seed", "seed-monolith", target)
    with systems.seed_microservices(ctx.supervisor) as target:
        sweep(ctx, "a. seed", "seed-microservices", target)


def django_monolith(ctx: Context) -> None:
    """b. One Django project reading a user and a product from one PostgreSQL database."""
    with systems.django_monolith(ctx.supervisor) as target:
        sweep(ctx, "b. monolith", "django-monolith", target)


def floors_and_ceilings(ctx: Context) -> None:
    """d. The plain Django floor and HAProxy answering by itself."""
    with systems.floor(ctx.supervisor) as target:
        sweep(ctx, "d. floor/ceiling", "floor", target)
    with systems.haproxy_alone(ctx.supervisor, ctx.config_dir) as target:
        sweep(ctx, "d. floor/ceiling", "haproxy-alone", target)


def _scaling_run(ctx: Context, floors: systems.ScaledFloor, count: int) -> dict:
    """One run with `count` replicas in service, with the CPU the replicas used (in cores) alongside."""
    floors.activate(count)
    before = proc.cpu_seconds(floors.pids)
    run = ctx.runner.run_once(floors.target, ctx.plan.scaling_connections)
    return {**run, "replica_cpu_cores": round((proc.cpu_seconds(floors.pids) - before) / run["seconds"], 2)}


def scaling(ctx: Context) -> None:
    """e. 1, 2 and 4 CPU-capped floor replicas behind one HAProxy, the counts taking turns run by run."""
    version, how = cgroups.probe(ctx.plan.cpu_quota)
    ctx.results.facts["cpu_caps"] = how
    ctx.runner.say(how)
    counts = ctx.plan.scaling_replicas
    share = ctx.plan.cpu_quota if version else None
    with systems.scaled_floor(ctx.supervisor, max(counts), share, ctx.config_dir) as floors:
        probe(floors.target)
        # A capped replica warms up (imports, first requests) at a quarter of a core: give it longer.
        wrk.run(floors.target, 16, max(ctx.plan.warmup, 3), timeout=ctx.plan.wrk_timeout)
        runs: dict[int, list[dict]] = {count: [] for count in counts}
        for repeat in range(ctx.plan.repeats):
            # Alternate the order so that no count always runs first (right after the warm-up) or last.
            for count in counts if repeat % 2 == 0 else reversed(counts):
                runs[count].append(_scaling_run(ctx, floors, count))
        for count in counts:
            ctx.runner.record(
                "e. scaling", f"scaling-{count}x", floors.target, ctx.plan.scaling_connections, runs[count]
            )


def _client_headers(ctx: Context, stack: Stack) -> dict:
    """Authorization for our gateway, or none (auth reported off) while the token command is unavailable."""
    token, why = stack.token(API_CLIENT)
    if token:
        ctx.results.facts["auth"] = "on (token from `manage_all.sh token bench-client --unlimited`)"
        return {"Authorization": f"Token {token}"}
    ctx.results.facts["auth"] = f"off ({why})"
    ctx.results.notes.append(f"Our stack was measured without an Authorization header: {why}.")
    return {}


def _check_database_headroom(ctx: Context) -> None:
    """Warn when PostgreSQL may refuse the stack's connections (others' stacks hold some too)."""
    limit, in_use = database.connection_headroom()
    if limit - in_use < STACK_DB_CONNECTIONS:
        note = (
            f"PostgreSQL had {limit - in_use} free connections of {limit} when our stack started; it may open"
            f" {STACK_DB_CONNECTIONS} (8 replicas x 4 threads). Refused connections show up as 5xx."
        )
        ctx.results.notes.append(note)
        ctx.runner.say("warning: " + note)


def _stack(ctx: Context, variant: str, extra_env: dict, measure, *, sample_memory: bool = True) -> None:
    """Start our default stack, run `measure(stack, headers)`, sample its memory (the default stack's verdict;
    not for stacks that load a catalogue or scale a tier), and always stop it."""
    stack = Stack(STACK_DIR, {"SERVICE_AUTH_TOKEN": SERVICE_AUTH_TOKEN, **extra_env})
    ctx.runner.say(f"starting our stack ({variant}) with ./manage_all.sh up")
    try:
        _check_database_headroom(ctx)
        stack.up()
        measure(stack, _client_headers(ctx, stack))
        if sample_memory:
            ctx.results.facts.setdefault("memory", {})[variant] = proc.usage(stack.pids())
        ctx.results.facts.setdefault("gateway_cache", {})[variant] = stack.cache_outcomes()
        if refusals := stack.database_refusals():
            note = f"{variant}: PostgreSQL refused connections ({refusals} 'too many clients' log lines); 5xx follow."
            ctx.results.notes.append(note)
            ctx.runner.say("warning: " + note)
    finally:
        stack.keep_logs(ctx.run_dir / "logs" / f"stack-{variant}")
        stack.down()


def ours_cache_hit(ctx: Context) -> None:
    """c. Our gateway through HAProxy, auth and rate limiting on, the aggregated page served from cache."""

    def measure(stack: Stack, headers: dict) -> None:
        target = Target(stack.url("gateway", "/api/1/1/"), headers)
        sweep(ctx, "c. ours", "ours-hit", target)
        _paired_with_floor(ctx, target)
        _overload(ctx, "overload-hit", target)

    _stack(ctx, "cache-hit", {}, measure)


def _paired_with_floor(ctx: Context, ours: Target) -> None:
    """g. The floor and our cache hit back to back, taking turns: the floor verdict is the median of the pairs."""
    _turns_beside(ctx, "g. paired", systems.floor, "floor-paired", ("ours-hit-paired", ours))


def _paired_miss(ctx: Context, miss: Target, upstreams: list[Target]) -> None:
    """m. The miss against its two references, taking turns: at one connection against both upstream calls sent
    together (the overhead verdict), at the ratio's concurrency against the Django monolith."""
    _taking_turns(
        ctx,
        "m. paired miss",
        1,
        [
            ("ours-miss-paired", miss, lambda: ctx.runner.run_once(miss, 1)),
            ("pair-direct-paired", upstreams[0], lambda: with_load(pair.run(*upstreams, ctx.plan.duration))),
        ],
    )
    _turns_beside(ctx, "m. paired miss", systems.django_monolith, "django-monolith-paired", ("ours-miss-paired", miss))


def _turns_beside(ctx: Context, scenario: str, start_baseline, baseline: str, ours: tuple[str, Target]) -> None:
    """A baseline system started again beside our running stack, probed and warmed up, then it and ours taking
    turns at the ratio's concurrency."""
    concurrency, runner = ctx.plan.ratio_concurrency, ctx.runner
    system, target = ours
    with start_baseline(ctx.supervisor) as started:
        probe(started)
        runner.warm_up(started)
        _taking_turns(
            ctx,
            scenario,
            concurrency,
            [
                (baseline, started, lambda: runner.run_once(started, concurrency)),
                (system, target, lambda: runner.run_once(target, concurrency)),
            ],
        )


def _taking_turns(ctx: Context, scenario: str, concurrency: int, turns: list[tuple[str, Target, Callable]]) -> None:
    """Two systems measured back to back, run after run, the first going first on even repeats.

    The sweeps run minutes apart, and a shared machine's speed drifts in between by more than the margins being
    judged (docs/benchmark.md, "The verdicts"). Runs that follow each other see the same machine.
    """
    runs: dict[str, list[dict]] = {system: [] for system, _, _ in turns}
    for repeat in range(ctx.plan.repeats):
        for system, _, measure in turns if repeat % 2 == 0 else reversed(turns):
            runs[system].append(measure())
    for system, target, _ in turns:
        ctx.runner.record(scenario, system, target, concurrency, runs[system])


def _overload(ctx: Context, system: str, target: Target) -> None:
    """f. Far more connections than the gateway replicas and their HAProxy queues can hold."""
    plan = ctx.plan
    ctx.runner.measure(
        "f. overload", system, target, plan.overload_connections, duration=plan.overload_duration, repeats=1
    )


def _direct_upstreams(ctx: Context, stack: Stack, headers: dict) -> list[Target]:
    """The users and products frontends called as the gateway calls them, at one connection; then both
    calls of each aggregate sent together by a minimal client (bench/pair.py), the miss's lower bound. Returns
    the two frontends' targets."""
    service_headers = {**headers, "X-Service-Token": SERVICE_AUTH_TOKEN, "X-Client-ID": API_CLIENT}
    targets = []
    for service in ("users", "products"):
        pattern = f"/api/{service}/%d/"
        target = Target(stack.url(service, pattern % 1), service_headers, pattern, SEED_COUNT)
        probe(target)
        ctx.runner.measure("c. ours", f"{service}-direct", target, 1)
        targets.append(target)
    runs = [with_load(pair.run(*targets, ctx.plan.duration)) for _ in range(ctx.plan.repeats)]
    ctx.runner.record("c. ours", "pair-direct", targets[0], 1, runs)
    return targets


def ours_cache_miss(ctx: Context) -> None:
    """c. and f. The gateway with its page cache off and ids rotating, its upstreams direct, then overload."""

    def measure(stack: Stack, headers: dict) -> None:
        target = Target(stack.url("gateway", "/api/1/1/"), headers, "/api/%d/%d/", SEED_COUNT)
        sweep(ctx, "c. ours", "ours-miss", target)
        upstreams = _direct_upstreams(ctx, stack, headers)
        _paired_miss(ctx, target, upstreams)
        _overload(ctx, "overload-miss", target)

    _stack(ctx, "cache-miss", {"PAGE_CACHE_ENABLED": "false"}, measure)


def loading_data(ctx: Context) -> None:
    """i. The seed and import commands at scale, timed on databases of their own (dropped after)."""
    plan, facts = ctx.plan, ctx.results.facts.setdefault("data", {})
    names = DATA_DATABASES
    env = {
        service: data.service_env(service, names[service], STACK_REDIS_URL, systems.SECRET_KEY, SERVICE_AUTH_TOKEN)
        for service in ("products", "users")
    }
    fresh = {**env["products"], "DATABASE_URL": data.database.url(names["import"])}
    export = ctx.run_dir / "data" / "products.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    try:
        for service, environment in (("products", env["products"]), ("users", env["users"]), ("import", fresh)):
            data.recreate(names[service])
            data.manage("users" if service == "users" else "products", environment, "migrate", "--noinput")
        for service, count in (("products", plan.catalogue_products), ("users", plan.catalogue_users)):
            seconds, _ = data.manage(service, env[service], f"seed_{service}", "--count", str(count))
            facts[f"seed_{service}"] = {
                "rows": count,
                "seconds": round(seconds, 1),
                "rows_per_s": round(count / seconds),
            }
            ctx.runner.say(f"seed_{service} --count {count:,}: {seconds:.1f} s ({count / seconds:,.0f} rows/s)")
        data.write_products_csv(export, plan.import_rows)
        for case, environment in (("import_fresh", fresh), ("import_live", env["products"])):
            _, stdout = data.manage("products", environment, "import_products", str(export))
            facts[case] = data.import_summary(stdout)
            ctx.runner.say(f"{case}: {stdout.strip().splitlines()[-1]}")
    finally:
        export.unlink(missing_ok=True)
        for name in names.values():
            data.drop(name)


from . import scale  # noqa: E402 (its scenarios use this module's helpers)

SCENARIOS = {
    "floor": floors_and_ceilings,
    "scaling": scaling,
    "seed": seed_flask,
    "monolith": django_monolith,
    "ours-hit": ours_cache_hit,
    "ours-miss": ours_cache_miss,
    "data": loading_data,
    "scale-reads": scale.scale_reads,
    "tier-scaling": scale.tier_scaling,
    "mixed": scale.mixed,
}
