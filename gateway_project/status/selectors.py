"""What the status page shows: every replica's HAProxy state and counters, cache results, rate-limit rejections."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from svc_common.logging import REPLICA
from svc_common.metrics import exposition

from . import haproxy_stats, replica_metrics
from .replica_metrics import ReplicaMetrics


@dataclass
class ReplicaStatus:
    service: str
    replica: str
    address: str
    state: str
    check: str
    requests: int | None  # served through HAProxy; None without HAProxy
    errors_5xx: int | None
    last_change_seconds: int | None
    metrics: ReplicaMetrics | None  # None when its /metrics did not answer

    @property
    def state_word(self) -> str:
        """UP, DOWN, DRAIN, MAINT…: the state without HAProxy's transition count ("UP 1/2")."""
        return self.state.split(" ")[0] if self.state else "-"


@dataclass
class CacheSummary:
    hit: int = 0
    miss: int = 0
    stale: int = 0

    @property
    def lookups(self) -> int:
        return self.hit + self.miss + self.stale

    @property
    def hit_percent(self) -> float | None:
        return round(100 * self.hit / self.lookups, 1) if self.lookups else None


@dataclass
class RedisSummary:
    """Redis as the replicas see it: it carries the rate limits and every cache, so say what its absence costs."""

    unreachable_from: list[str] = field(default_factory=list)  # replicas whose probe of Redis failed
    probed: int = 0  # replicas whose /metrics answered
    rate_limit_fail_open: bool = True

    @property
    def state(self) -> str:
        if not self.probed:
            return "unknown"
        return "down" if self.unreachable_from else "up"


@dataclass
class SystemStatus:
    replicas: list[ReplicaStatus]
    problem: str | None = None  # why HAProxy's view is missing
    cache: dict[str, CacheSummary] = field(default_factory=dict)  # by service
    rate_limited: dict[str, int] = field(default_factory=dict)  # by group, over every gateway replica
    redis: RedisSummary = field(default_factory=RedisSummary)


def _service(backend: str) -> str:
    return backend.removeprefix("be_")


def _scrape_all(addresses: list[str]) -> list[ReplicaMetrics | None]:
    timeout = settings.STATUS_FETCH_TIMEOUT
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(addresses)))) as pool:
        return list(pool.map(lambda address: replica_metrics.fetch(address, timeout), addresses))


def _this_replica_only(problem: str) -> SystemStatus:
    """No HAProxy to ask (direct mode, or it is down): this replica's own numbers."""
    metrics = replica_metrics.summarize(exposition().decode())
    replica = ReplicaStatus("gateway", REPLICA, "", "-", "-", None, None, None, metrics)
    return SystemStatus(replicas=[replica], problem=problem)


def system_status() -> SystemStatus:
    """HAProxy's server rows joined with each replica's /metrics, and the totals the page shows."""
    try:
        rows = haproxy_stats.server_rows()
    except haproxy_stats.StatsUnavailable as exc:
        status = _this_replica_only(str(exc))
    else:
        scraped = _scrape_all([row.address for row in rows])
        status = SystemStatus(
            replicas=[
                ReplicaStatus(
                    _service(row.backend),
                    row.server,
                    row.address,
                    row.state,
                    row.check,
                    row.requests,
                    row.errors_5xx,
                    row.last_change_seconds,
                    metrics,
                )
                for row, metrics in zip(rows, scraped, strict=True)
            ]
        )
    rejected = Counter()
    status.redis.rate_limit_fail_open = settings.RATE_LIMIT_FAIL_OPEN
    for replica in status.replicas:
        if replica.metrics is None:
            continue
        if "cache" in replica.metrics.dependencies:
            status.redis.probed += 1
            if not replica.metrics.dependencies["cache"]:
                status.redis.unreachable_from.append(replica.replica)
        summary = status.cache.setdefault(replica.service, CacheSummary())
        for result in ("hit", "miss", "stale"):
            setattr(summary, result, getattr(summary, result) + replica.metrics.cache[result])
        rejected.update(replica.metrics.rate_limited)
    status.cache = {service: summary for service, summary in status.cache.items() if summary.lookups}
    # A plain dict: a template's `.items` on a Counter would look up the key "items" (and get 0).
    status.rate_limited = dict(sorted(rejected.items()))
    return status
