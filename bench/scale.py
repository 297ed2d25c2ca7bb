"""The scenarios at the catalogue's size (issue 15): scale-reads, tier-scaling and mixed.

- `scale-reads` (j): our stack with the page cache off, the catalogue loaded (1,000,000 products and 200,000
  users; quick: 50,000 and 10,000); one wrk run per kind of read at 16 connections through HAProxy and the
  gateway, each run spread over many URLs of its kind: p50 and p99 per read.
- `tier-scaling` (k): the same stack, page cache off; the products tier scaled to 1, 2 and 4 replicas with
  `./manage_all.sh scale products N`, each replica moved into its own cgroup capped at 25% of a core; a
  products-bound load (detail and list reads over rotating ids, and PATCHes) through the gateway, the counts
  taking turns run by run; throughput against N, and the CPU each tier used.
- `mixed` (l): Zipf-distributed users and products (s = 1.1): 90% aggregate reads, 5% list or search reads,
  5% keyed PATCHes of a stock or a price, at 64 connections, against our default stack (page cache on) and
  against the Django monolith with Django's Redis cache in front of its reads (bench/monolith, catalog.caching),
  both holding the same rows; a sampler writes and reads back hot rows meanwhile (bench/stale.py).
"""

import base64
import json
import random
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg2

from . import cgroups, data, proc, stale, systems
from .plan import PORTS, STACK_DATABASE_PREFIX
from .processes import BenchError
from .stack import Stack
from .wrk import Target

SCALE_READS, TIER_SCALING, MIXED = "j. scale-reads", "k. tier-scaling", "l. mixed"
NOUNS = ("lamp", "chair", "kettle", "blender", "monitor", "camera", "backpack", "wallet", "drill", "ladder")
ADJECTIVES = ("red", "vintage", "wireless", "leather", "compact")
LAST_NAMES = ("smith", "garcia", "nguyen", "martin", "lee", "walker", "robinson", "taylor")
PRODUCT_ORDERINGS = [f"{sign}{field}" for field in ("price", "stock", "name", "created_at", "id") for sign in ("", "-")]
URLS_PER_READ = 400
PROBES = 16  # hot products written only by the stale-read sampler (bench/wrk_report.lua, BENCH_PROBES)
SPREAD = 15485863  # rank r is id ((r - 1) * SPREAD) % N + 1, as in bench/wrk_report.lua


def stack_database(service: str) -> str:
    return f"{STACK_DATABASE_PREFIX}scaling_{service}"


def reset_catalogue(ctx) -> None:
    """Before the first stack of a run that needs the catalogue: empty databases, so it holds exactly the plan's."""
    if not ctx.catalogue_ready:
        for service in ("users", "products"):
            data.drop(stack_database(service))


def load_catalogue(ctx, stack: Stack) -> None:
    """The plan's catalogue in the running stack, with its own seed commands (they skip what exists)."""
    plan = ctx.plan
    for service, count in (("products", plan.catalogue_products), ("users", plan.catalogue_users)):
        result = stack.manage("manage", service, f"seed_{service}", "--count", str(count), timeout=1800)
        if result.returncode != 0:
            raise BenchError(f"seed_{service} failed: {(result.stdout + result.stderr).strip()[-500:]}")
    ctx.catalogue_ready = True
    ctx.results.facts["catalogue"] = {"products": plan.catalogue_products, "users": plan.catalogue_users}


def cursor_token(*position: str) -> str:
    """A cursor as svc_common.pagination.KeysetCursorPagination writes it: the row's position, base64."""
    return quote(base64.b64encode(urlencode({"p": json.dumps(list(position))}).encode()).decode())


def deep_positions(count: int, size: int) -> list[tuple[str, str]]:
    """(price, id) of rows from the deeper half of the catalogue, for cursors ordered by price."""
    rng = random.Random(7)  # noqa: S311 (sampling, not secrets)
    ids = [rng.randint(size // 2, size) for _ in range(count)]
    connection = psycopg2.connect(dbname=stack_database("products"), connect_timeout=3, **data.database.params())
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT price, id FROM products_product WHERE id = ANY(%s)", [ids])
            return [(str(price), str(row_id)) for price, row_id in cursor.fetchall()]
    finally:
        connection.close()


def read_requests(products: int, users: int) -> dict[str, list[str]]:
    """For each kind of read the API offers, URLs of that kind spread over the catalogue."""
    rng = random.Random(15)  # noqa: S311 (sampling, not secrets)
    n = URLS_PER_READ
    prices = [rng.randint(1, 999) for _ in range(n)]
    return {
        "detail": [f"/api/products/{rng.randint(1, products)}/" for _ in range(n // 2)]
        + [f"/api/users/{rng.randint(1, users)}/" for _ in range(n // 2)],
        "list": [f"/api/products/?page_size=20&page={rng.randint(1, 50)}" for _ in range(n)],
        "filter-price": [f"/api/products/?page_size=20&min_price={p}.00&max_price={p}.99" for p in prices],
        "filter-sku": [f"/api/products/?sku=sku-{rng.randint(1, products):06d}" for _ in range(n)],
        "filter-user": [f"/api/users/?username=USER_{rng.randint(1, users)}" for _ in range(n)],
        "search-products": [f"/api/products/?page_size=20&search={rng.choice(NOUNS)}" for _ in range(n // 2)]
        + [f"/api/products/?page_size=20&search={rng.choice(ADJECTIVES)}%20{rng.choice(NOUNS)}" for _ in range(n // 2)],
        "search-users": [f"/api/users/?page_size=20&search={rng.choice(LAST_NAMES)}" for _ in range(n)],
        "ordering": [f"/api/products/?page_size=20&ordering={rng.choice(PRODUCT_ORDERINGS)}" for _ in range(n)],
        "deep-cursor": [
            f"/api/products/?page_size=20&cursor={cursor_token(str(rng.randint(products // 2, products)))}"
            for _ in range(n // 2)
        ]
        + [
            f"/api/products/?page_size=20&ordering=price&cursor={cursor_token(price, row_id)}"
            for price, row_id in deep_positions(n // 2, products)
        ],
    }


def write_requests(path: Path, lines: list[tuple[str, str, str]]) -> Path:
    """A requests file for bench/wrk_report.lua: METHOD, path and body, tab-separated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(line).rstrip("\t") + "\n" for line in lines))
    return path


def scale_reads(ctx) -> None:
    """j. Every kind of read at the catalogue's size, page cache off, 16 connections."""
    from .scenarios import _stack, probe  # noqa: PLC0415 (the scenarios module imports this one)

    plan = ctx.plan

    def measure(stack: Stack, headers: dict) -> None:
        load_catalogue(ctx, stack)
        kinds = read_requests(plan.catalogue_products, plan.catalogue_users)
        everything = write_requests(
            ctx.config_dir / "reads-all.tsv", [("GET", url, "") for urls in kinds.values() for url in urls]
        )
        warm = Target(stack.url("gateway", "/api/products/"), headers, script_env={"BENCH_REQUESTS_FILE": everything})
        probe(warm)
        ctx.runner.warm_up(warm)
        for kind, urls in kinds.items():
            requests = write_requests(ctx.config_dir / f"reads-{kind}.tsv", [("GET", url, "") for url in urls])
            target = Target(stack.url("gateway", urls[0]), headers, script_env={"BENCH_REQUESTS_FILE": requests})
            probe(target)
            # One connection too: a read's own cost, without the queueing of a machine busy with other work.
            for connections in sorted({1, plan.scale_connections}) if not plan.quick else [plan.scale_connections]:
                ctx.runner.measure(SCALE_READS, f"read-{kind}", target, connections)

    reset_catalogue(ctx)
    _stack(ctx, "scale-reads", {"PAGE_CACHE_ENABLED": "false"}, measure, sample_memory=False)


def tier_requests(products: int) -> list[tuple[str, str, str]]:
    """Products-bound traffic: detail and list reads over rotating ids and pages, one write in ten."""
    rng = random.Random(21)  # noqa: S311 (sampling, not secrets)
    lines = [("GET", f"/api/products/{rng.randint(1, products)}/", "") for _ in range(450)]
    lines += [("GET", f"/api/products/?page_size=20&page={rng.randint(1, 50)}", "") for _ in range(225)]
    lines += [("GET", f"/api/products/?page_size=20&ordering=-price&min_price={p}.00", "") for p in range(1, 226)]
    lines += [("PATCH", f"/api/products/{rng.randint(1, products)}/", f'{{"stock": {n}}}') for n in range(100)]
    return lines


class CappedTier:
    """The products replicas of a running stack, each moved into its own CPU-capped cgroup."""

    def __init__(self, stack: Stack, share: float | None):
        self.stack, self.share, self.caps = stack, share, {}

    def scale(self, count: int) -> None:
        result = self.stack.manage("scale", "products", str(count), timeout=300)
        if result.returncode != 0:
            raise BenchError(f"manage_all.sh scale products {count} failed: {result.stderr.strip()[-400:]}")
        if self.share is None:
            return
        parents = proc.parents()
        for name, pid in self.stack.pids().items():
            if name.startswith("products-"):
                cap = self.caps.get(name) or cgroups.create(f"tier-{name}", self.share)
                self.caps[name] = cap
                for member in proc.tree(pid, parents):
                    cap.add(member)

    def pids(self, tier: str) -> list[int]:
        return [pid for name, pid in self.stack.pids().items() if name.startswith(f"{tier}-")]

    def remove(self) -> None:
        for cap in self.caps.values():
            cap.remove()


def tier_scaling(ctx) -> None:
    """k. The products tier at 1, 2 and 4 CPU-capped replicas behind the gateway, page cache off."""
    from .scenarios import _stack, probe  # noqa: PLC0415 (the scenarios module imports this one)

    plan = ctx.plan
    version, how = cgroups.probe(plan.cpu_quota)
    ctx.results.facts["tier_caps"] = how

    def measure(stack: Stack, headers: dict) -> None:
        load_catalogue(ctx, stack)
        requests = write_requests(ctx.config_dir / "tier.tsv", tier_requests(plan.catalogue_products))
        target = Target(stack.url("gateway", "/api/products/1/"), headers, script_env={"BENCH_REQUESTS_FILE": requests})
        tier = CappedTier(stack, plan.cpu_quota if version else None)
        try:
            runs: dict[int, list[dict]] = {count: [] for count in plan.scaling_replicas}
            for repeat in range(plan.repeats):
                for count in plan.scaling_replicas if repeat % 2 == 0 else reversed(plan.scaling_replicas):
                    tier.scale(count)
                    probe(target)
                    ctx.runner.warm_up(target)
                    runs[count].append(_tier_run(ctx, tier, target))
            for count in plan.scaling_replicas:
                ctx.runner.record(TIER_SCALING, f"tier-{count}x", target, plan.scaling_connections, runs[count])
        finally:
            tier.remove()

    reset_catalogue(ctx)
    _stack(ctx, "tier-scaling", {"PAGE_CACHE_ENABLED": "false"}, measure, sample_memory=False)


def _tier_run(ctx, tier: CappedTier, target: Target) -> dict:
    """One run, with the CPU (in cores) each tier used during it."""
    tiers = ("products", "users", "gateway")
    before = {name: proc.cpu_seconds(tier.pids(name)) for name in tiers}
    run = ctx.runner.run_once(target, ctx.plan.scaling_connections)
    cores = {name: round((proc.cpu_seconds(tier.pids(name)) - before[name]) / run["seconds"], 2) for name in tiers}
    return {**run, "tier_cpu_cores": cores}


def probe_ids(products: int, users: int) -> tuple[list[int], list[int]]:
    """The hottest products (which only the sampler writes) and users, by Zipf rank, as ids."""
    return (
        [(rank * SPREAD) % products + 1 for rank in range(PROBES)],
        [(rank * SPREAD) % users + 1 for rank in range(PROBES)],
    )


def mix_env(plan) -> dict:
    return {
        "BENCH_MIX": "zipf",
        "BENCH_USERS": plan.catalogue_users,
        "BENCH_PRODUCTS": plan.catalogue_products,
        "BENCH_ZIPF_S": plan.zipf_s,
        "BENCH_PROBES": PROBES,
        "BENCH_READ_SHARE": 0.90,
        "BENCH_LIST_SHARE": 0.05,
        "BENCH_SEARCH_TERMS": ",".join(NOUNS),
    }


def _mixed_run(ctx, target: Target, writes_headers: dict, ids: tuple) -> dict:
    """One run at the mixed concurrency, the stale-read sampler running meanwhile."""
    plan = ctx.plan
    with stale.Sampler(target.url.split("/api/")[0], writes_headers, *ids) as sampler:
        run = ctx.runner.run_once(target, plan.mixed_connections, plan.mixed_duration)
    return {**run, "stale": sampler.summary()}


def mixed(ctx) -> None:
    """l. Skewed traffic with writes: our stack against the cached Django monolith, the same rows in both, taking
    turns run after run (both are up; each is warmed up first)."""
    from .scenarios import _stack, _taking_turns, probe  # noqa: PLC0415 (the scenarios module imports this one)

    plan = ctx.plan

    def measure(stack: Stack, headers: dict) -> None:
        load_catalogue(ctx, stack)
        systems.prepare_monolith()
        with tempfile.TemporaryDirectory(prefix="scaling-bench-copy-") as spool:
            copied = data.copy_catalogue(
                {"users": stack_database("users"), "products": stack_database("products")}, Path(spool)
            )
        ctx.runner.say(f"monolith: copied {copied['users']:,} users and {copied['products']:,} products from our stack")
        ours = Target(stack.url("gateway", "/api/1/1/"), headers, script_env=mix_env(plan))
        ids = probe_ids(plan.catalogue_products, plan.catalogue_users)
        with systems.cached_monolith(ctx.supervisor) as served:
            monolith = Target(served.url, {}, script_env=mix_env(plan))
            for target in (ours, monolith):
                probe(target)
                ctx.runner.warm_up(target, duration=plan.mixed_warmup, connections=plan.mixed_connections)
            _taking_turns(
                ctx,
                MIXED,
                plan.mixed_connections,
                [
                    ("mixed-ours", ours, lambda: _mixed_run(ctx, ours, headers, ids)),
                    ("mixed-monolith", monolith, lambda: _mixed_run(ctx, monolith, {}, ids)),
                ],
            )

    reset_catalogue(ctx)
    _stack(ctx, "mixed", {}, measure, sample_memory=False)
    ctx.results.facts["mixed"] = {"processes": systems.cached_monolith_processes(), "ports": PORTS["django-monolith"]}
