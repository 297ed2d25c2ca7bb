"""What a run measures and where: durations, concurrencies and the harness's own ports (40000 and up)."""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
VENV = ROOT / ".venv"
RESULTS_DIR = BENCH_DIR / "results"

# Far from the dev stack (8000-8002, 8404, 9000-9300) and the test stacks (20000-37000), and above Linux's
# default ephemeral range (32768-60999): a client socket that borrowed one of these ports as its source port,
# even in TIME_WAIT, would make the server's bind fail.
PORTS = {
    "seed-monolith": 61010,
    "seed-users": 61011,
    "seed-products": 61012,
    "seed-gateway": 61013,
    "django-monolith": 61020,
    "floor": 61030,
    "haproxy-alone": 61040,
    "scaling-lb": 61050,
    "scaling-replica-base": 61060,
    "stack-gateway": 61100,
    "stack-users": 61101,
    "stack-products": 61102,
    "stack-stats": 61104,
    # The stack's replicas listen on this base + 1..2 (gateway), + 101..103 (users), + 201..203 (products).
    "stack-replica-base": 62000,
}
SEED_COUNT = 100
STACK_REDIS_URL = "redis://127.0.0.1:6379/10"
STACK_DATABASE_PREFIX = "bench_"
MONOLITH_DATABASE = "bench_monolith"
# The `data` scenario's own databases, dropped after it.
DATA_DATABASES = {"products": "bench_data_products", "users": "bench_data_users", "import": "bench_data_import"}


@dataclass(frozen=True)
class Plan:
    """How long and how hard each measurement runs."""

    quick: bool
    duration: int
    repeats: int
    warmup: int
    concurrencies: tuple[int, ...]
    overload_connections: int
    overload_duration: int
    scaling_replicas: tuple[int, ...] = (1, 2, 4)
    scaling_connections: int = 64
    cpu_quota: float = 0.25
    wrk_timeout: int = 10
    # The catalogue of the scale scenarios and of the `data` scenario's seeds; the rows one import loads.
    catalogue_products: int = 1_000_000
    catalogue_users: int = 200_000
    import_rows: int = 200_000
    # scale-reads' concurrency; the mixed workload's concurrency, Zipf exponent, run length and warm-up.
    scale_connections: int = 16
    mixed_connections: int = 64
    zipf_s: float = 1.1
    mixed_duration: int = 10
    mixed_warmup: int = 10

    @property
    def ratio_concurrency(self) -> int:
        """The concurrency the throughput ratios compare at."""
        return 64


QUICK = Plan(
    quick=True,
    duration=3,
    repeats=1,
    warmup=1,
    concurrencies=(1, 64),
    overload_connections=512,
    overload_duration=3,
    catalogue_products=50_000,
    catalogue_users=10_000,
    import_rows=20_000,
    mixed_duration=5,
    mixed_warmup=3,
)
FULL = Plan(
    quick=False,
    duration=5,
    repeats=3,
    warmup=3,
    concurrencies=(1, 16, 64, 256),
    overload_connections=1024,
    overload_duration=10,
)
