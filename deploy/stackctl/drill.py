"""`manage_all.sh drill`: break the running stack in turn under a mixed load, then report what clients saw.

The load (stackctl.load) reads aggregates no cache has seen, a hot page, and makes keyed creates and
PATCHes through the gateway, retrying a keyed write after a 503 as a careful client does. Meanwhile the
drill, in turn: SIGKILLs one replica of each tier (and starts it again), rolls out products, scales users
up and back, reloads HAProxy 5 times, restarts Redis and, with --with-database, PostgreSQL. HAProxy's
counters show each target served until it broke. Then keyed writes are checked in PostgreSQL and attempts
per client request counted from the logs (stackctl.audit). Report: var/drill/<run>/report.{json,md}.

Exit status 1 on a lost or duplicated write, or on a failed request the drill did not expect: the only
failures expected are JSON 503s with Retry-After while PostgreSQL restarts.
"""

import contextlib
import io
import json
import os
import random
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import httpx

from . import audit, config, databases, dependencies, haproxy, operations
from .config import SERVICES
from .load import ClientRequest, FreshPairs, Load, catalogue, mixed, percentile
from .processes import StackError, read_pid, replica_name, wait_until
from .state import StackState

HOT_PATH = "/api/1/1/"
# A service's database_unavailable reaches an aggregate client as upstream_degraded (the reason names it).
EXPECTED_FAILURE_CODES = frozenset(
    {"database_unavailable", "upstream_busy", "upstream_degraded", "service_unavailable"}
)


@dataclass
class Fault:
    name: str
    kind: str
    start: float = 0.0
    end: float = 0.0
    target: str | None = None  # backend/server broken, when one is
    served_before: int | None = None  # requests HAProxy sent the target during the phase before the fault
    seconds_to_down: float | None = None
    outage_seconds: float | None = None
    added_served: int | None = None  # scale: requests the added replica served before it was removed
    resumed_seconds: float | None = None  # Redis: until the page cache answered again, after the restart
    notes: list[str] = field(default_factory=list)


class Drill:
    def __init__(self, state: StackState, *, quick: bool, with_database: bool, read_ids: tuple[int, int] | None = None):
        self.state, self.quick, self.with_database = state, quick, with_database
        self.read_ids = read_ids  # (lowest, highest) user and product id the aggregate reads may take
        self.settle = 60 if quick else 400  # client requests to let through after each step
        self.run = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.faults: list[Fault] = []
        self.current = "starting"
        self.load: Load | None = None
        self._served = self._stot()

    # ------------------------------------------------------------------ the sequence

    def run_all(self) -> dict:
        gateway = f"http://127.0.0.1:{SERVICES['gateway'].public_port}"
        token = databases.manage(SERVICES["gateway"], self.state.database, "issue_token", "drill", "--unlimited")
        self.gateway, self.headers = gateway, headers = gateway, {"Authorization": f"Token {token.strip()}"}
        with httpx.Client(base_url=gateway, headers=headers, timeout=10) as client:
            users, products = catalogue(client)
            if self.read_ids:
                low, high = self.read_ids
                users, products = ([i for i in ids if low <= i <= high] for ids in (users, products))
                if not users or not products:
                    raise StackError(f"no users and products with ids in {self.read_ids} among the newest 10,000")
            client.get(HOT_PATH).raise_for_status()  # the hot page is cached before the drill starts
        start = random.randrange(max(1, min(len(users), len(products))))  # noqa: S311
        self.pairs = pairs = FreshPairs(users, products, start=start, wrap=True)
        self.load = Load(
            gateway,
            plan=mixed(pairs, hot_path=HOT_PATH),
            headers=headers,
            concurrency=6,
            max_seconds=600,
            max_requests=200_000,
            retry_writes=True,
            run=f"drill-{self.run}",
        )
        steps = [
            *(lambda tier=tier: self.kill(tier) for tier in ("users", "products", "gateway")),
            lambda: self.rollout("products"),
            lambda: self.scale("users"),
            lambda: self.reloads(5),
            self.redis_restart,
        ]
        if self.with_database:
            steps.append(self.postgres_restart)
        progress = threading.Thread(target=self._progress, daemon=True)
        with self.load:
            progress.start()
            self._settle()
            for step in steps:
                step()
            self.current = "done"
        result = self.load.result
        print(file=sys.stderr)
        return self.report(result)

    def _settle(self) -> None:
        self.load.wait_for_more(self.settle, timeout=120)

    def _begin(self, name: str, kind: str, target: str | None = None) -> Fault:
        fault = Fault(name, kind, target=target)
        self.current = name
        served = self._stot()
        if target:
            fault.served_before = served.get(target, 0) - self._served.get(target, 0)
        fault.start = self.load.mark(name)
        self.faults.append(fault)
        return fault

    def _end(self, fault: Fault) -> None:
        # The next target's counters start here: what it serves while this fault settles shows the load
        # reached it until the moment it broke.
        self._served = self._stot()
        self._settle()
        fault.end = self.load.mark(f"after {fault.name}")

    @staticmethod
    def _stot() -> dict[str, int]:
        return {f"{row['pxname']}/{row['svname']}": int(row.get("stot") or 0) for row in haproxy.stats()}

    @staticmethod
    def _quietly(action, *args) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            action(*args)

    # ------------------------------------------------------------------ the faults

    def kill(self, tier: str) -> None:
        indexes = self.state.replicas[tier]
        index = indexes[len(indexes) // 2]
        name = replica_name(SERVICES[tier], index)
        fault = self._begin(f"SIGKILL {name}", "kill", f"{haproxy.BACKENDS[tier]}/{name}")
        os.killpg(read_pid(name), signal.SIGKILL)
        killed = time.monotonic()
        wait_until(
            lambda: (haproxy.server_row(tier, index) or {}).get("status", "").startswith("DOWN"),
            timeout=15,
            what=f"HAProxy to mark {name} DOWN",
            interval=0.02,
        )
        fault.seconds_to_down = round(time.monotonic() - killed, 3)
        self.load.wait_for_more(self.settle // 2, timeout=60)
        self._quietly(operations.rollout, self.state, tier, [index])
        fault.notes.append(f"{name} started again")
        self._end(fault)

    def rollout(self, tier: str) -> None:
        fault = self._begin(f"rollout {tier}", "rollout")
        self._quietly(operations.rollout, self.state, tier)
        self._end(fault)

    def scale(self, tier: str) -> None:
        count = len(self.state.replicas[tier])
        fault = self._begin(f"scale {tier} {count}→{count + 1}→{count}", "scale")
        self._quietly(operations.scale, self.state, tier, count + 1)
        added = replica_name(SERVICES[tier], self.state.replicas[tier][-1])
        self.load.wait_for_more(self.settle // 2, timeout=60)
        # It comes in through a slow start: give it up to 15 s to take requests (none, if the catalogue is
        # too small for reads the gateway's cache cannot answer), then take it out again.
        with contextlib.suppress(StackError):
            wait_until(
                lambda: self._stot().get(f"{haproxy.BACKENDS[tier]}/{added}", 0) > 0,
                timeout=15,
                what=f"{added} to take requests",
            )
        fault.added_served = self._stot().get(f"{haproxy.BACKENDS[tier]}/{added}", 0)
        fault.notes.append(f"{added} served {fault.added_served} requests before it was removed")
        self._quietly(operations.scale, self.state, tier, count)
        self._end(fault)

    def reloads(self, count: int) -> None:
        fault = self._begin(f"{count} HAProxy reloads", "reload")
        for _ in range(count):
            operations.reload_config(self.state)
            self.load.wait_for_more(20, timeout=30)
        self._end(fault)

    def redis_restart(self) -> None:
        fault = self._begin("Redis restart", "redis")
        fault.outage_seconds = round(
            dependencies.redis_restart(config.redis_url(), log_path=config.log_dir() / "redis-restart.log"), 3
        )
        # The next fault starts from a recovered system: until the access step has its token records and the
        # page cache answers again, a client's token is checked in the database at every request.
        fault.resumed_seconds = self._until_the_cache_answers()
        self._end(fault)

    def _until_the_cache_answers(self, timeout: float = 30) -> float:
        """Seconds until the hot page is a cache HIT again (the access script ran with a verified record)."""
        started = time.monotonic()
        with httpx.Client(base_url=self.gateway, headers=self.headers, timeout=5) as client:
            wait_until(
                lambda: client.get(HOT_PATH).headers.get("X-Cache") == "HIT",
                timeout=timeout,
                what="the gateway's page cache to answer again",
                interval=0.1,
            )
        return round(time.monotonic() - started, 3)

    def postgres_restart(self) -> None:
        fault = self._begin("PostgreSQL restart", "postgres")
        dsn = databases.database_url(SERVICES["products"], self.state.database)
        fault.outage_seconds = round(
            dependencies.postgres_restart(dsn, log_path=config.log_dir() / "postgresql-restart.log"), 3
        )
        self._end(fault)

    # ------------------------------------------------------------------ progress and report

    def _progress(self) -> None:
        interactive = sys.stderr.isatty()
        while self.current != "done":
            result = self.load.result
            line = (
                f"drill {self.load.now():6.1f}s  {result.total:6d} requests  "
                f"{sum(not request.ok for request in list(result.requests)):4d} failed  "
                f"{result.replays} replays  ·  {self.current}"
            )
            print(f"\r{line:<100}" if interactive else line, end="" if interactive else "\n", file=sys.stderr)
            time.sleep(0.5 if interactive else 5)

    def expected(self, request: ClientRequest) -> bool:
        """A failure the drill expects: a JSON 503 with Retry-After while PostgreSQL restarts."""
        final = request.final
        # In the fault: sent before it ended, answered after it began (a request in flight when PostgreSQL
        # stopped started in the phase before).
        in_database_fault = any(
            fault.kind == "postgres" and request.started < fault.end and final.started + final.seconds >= fault.start
            for fault in self.faults
        )
        code = (request.answer or {}).get("error", {}).get("code") if isinstance(request.answer, dict) else None
        return in_database_fault and final.status == 503 and bool(final.retry_after) and code in EXPECTED_FAILURE_CODES

    def _phase(self, request: ClientRequest) -> str:
        """The fault the request was sent during or after."""
        started = [fault.name for fault in self.faults if fault.start <= request.started]
        return f"during or after {started[-1]}" if started else "before the first fault"

    def report(self, result) -> dict:
        writes = audit.keyed_writes(databases.database_url(SERVICES["products"], self.state.database), result.requests)
        attempts = audit.attempts_per_request(config.log_dir(), f"drill-{self.run}")
        retried_at_the_gateway = audit.retried_at(config.log_dir(), f"drill-{self.run}", "gateway")
        reads = result.of_kind("read")
        cache_answered = [request for request in reads if request.final.cache == "HIT"]
        first_try_hits = [
            request
            for request in cache_answered
            if len(request.attempts) == 1 and request.final.request_id not in retried_at_the_gateway
        ]
        unexpected = [request for request in result.failed if not self.expected(request)]
        faults = []
        for fault in self.faults:
            # By when the first attempt was answered: a request sent in the last moments of one fault that
            # meets the next (the faults follow each other at once) counts under the one it met.
            requests = result.answered_between(fault.start, fault.end)
            failed = [request for request in requests if not request.ok]
            p99 = percentile([request.seconds for request in requests], 0.99)
            faults.append(
                {
                    **asdict(fault),
                    "start": round(fault.start, 3),
                    "end": round(fault.end, 3),
                    "requests": len(requests),
                    "failed": len(failed),
                    "unexpected_failures": sum(not self.expected(request) for request in failed),
                    "replays": sum(attempt.reason == "replay" for r in requests for attempt in r.attempts),
                    "client_retries": sum(attempt.reason == "retry" for r in requests for attempt in r.attempts),
                    "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
                }
            )
        problems = []
        if writes.lost:
            problems.append(f"{len(writes.lost)} lost writes: {writes.lost[:3]}")
        if writes.duplicated:
            problems.append(f"{len(writes.duplicated)} duplicated writes: {writes.duplicated[:3]}")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected failed requests")
        return {
            "run": self.run,
            "quick": self.quick,
            "with_database": self.with_database,
            "duration_seconds": round(result.duration, 1),
            "requests": {
                "total": result.total,
                "by_outcome": {str(key): value for key, value in sorted(result.statuses.items())},
                "errors": dict(result.errors),
                "by_kind": {
                    kind: len(result.of_kind(kind)) for kind in ("read", "hot", "search", "create", "patch", "check")
                },
                "attempts": {
                    f"{reason} {outcome}": n
                    for (reason, outcome), n in sorted(result.attempt_outcomes.items(), key=str)
                },
                "replays": result.replays,
                "client_retries": result.retries,
                "failed": result.failures,
                "unexpected_failures": len(unexpected),
                "p99_ms": round((percentile(result.latencies, 0.99) or 0) * 1000, 1),
                "examples_of_unexpected": [
                    f"{r.call.method} {r.call.path} → {r.final.outcome} {r.final.body[:160]}" for r in unexpected[:5]
                ],
            },
            # Aggregates the page cache could not answer whole on their first try (X-Cache not HIT): reads of a
            # pair whose user and product pages were both cached are composed there, and miss every service.
            # A retry, by the client or by HAProxy at the gateway tier (a gateway replica killed before it
            # answered), can find the pages its own first try stored: such reads reached the services too.
            "fresh_reads": len(reads) - len(first_try_hits),
            "retried_reads_answered_by_cache": len(cache_answered) - len(first_try_hits),
            "examples_of_first_try_hits": [
                f"{request.call.path} at {request.started:.1f} s, {self._phase(request)}"
                for request in first_try_hits[:5]
            ],
            "faults": faults,
            "writes": writes.as_dict(),
            "stale_reads": result.stale_reads,
            "attempts_per_client_request": audit.as_dict(attempts),
            "verdict": {"ok": not problems, "problems": problems},
        }


def markdown(report: dict) -> str:
    """The report as Markdown, the way docs/reliability.md quotes it."""
    requests, writes, attempts = report["requests"], report["writes"], report["attempts_per_client_request"]
    mode = "quick" if report["quick"] else "full"
    lines = [
        f"# Fault drill {report['run']} ({mode}{', with the database' if report['with_database'] else ''})",
        "",
        f"Verdict: **{'pass' if report['verdict']['ok'] else 'FAIL'}**"
        + ("" if report["verdict"]["ok"] else f" ({'; '.join(report['verdict']['problems'])})"),
        "",
        f"{requests['total']} client requests in {report['duration_seconds']} s "
        f"({', '.join(f'{k} {v}' for k, v in requests['by_kind'].items())}); p99 {requests['p99_ms']} ms.",
        f"By final outcome: {', '.join(f'{k} × {v}' for k, v in requests['by_outcome'].items()) or '-'}"
        f"{'; no answer: ' + str(requests['errors']) if requests['errors'] else ''}.",
        f"Aggregate reads the cache could not answer whole when first asked: {report.get('fresh_reads', '-')} of "
        f"{requests['by_kind'].get('read', 0)} ({report.get('retried_reads_answered_by_cache', 0)} answered by the "
        "cache on a retry, from the pages their first attempt stored).",
        f"Failed: {requests['failed']}, unexpected: {requests['unexpected_failures']}; replays after a closed "
        f"keep-alive connection: {requests['replays']}; keyed writes retried by the client: {requests['client_retries']}.",
        "",
        "Each fault counts the client requests whose first attempt was answered while it lasted.",
        "",
        "| fault | requests | failed (unexpected) | replays | client retries | p99 ms | target served before | to DOWN s | outage s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for fault in report["faults"]:
        cells = [
            fault["name"],
            fault["requests"],
            f"{fault['failed']} ({fault['unexpected_failures']})",
            fault["replays"],
            fault["client_retries"],
            fault["p99_ms"],
            fault["served_before"] if fault["served_before"] is not None else "-",
            fault["seconds_to_down"] if fault["seconds_to_down"] is not None else "-",
            fault["outage_seconds"] if fault["outage_seconds"] is not None else "-",
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines += [
        "",
        f"Keyed writes: {writes['acknowledged']} acknowledged; in PostgreSQL {writes['lost']} lost, "
        f"{writes['duplicated']} duplicated; {writes['unacknowledged']} never acknowledged "
        f"({writes['unacknowledged_applied']} of them applied). Stale reads: {report['stale_reads']}.",
        "",
        "Attempts per client request, from HAProxy's log: "
        + ", ".join(
            f"{tier} max {value['max']}, p99 {value['p99']}"
            + (f" ({value['silent_closes']} closed without an answer)" if value.get("silent_closes") else "")
            for tier, value in attempts.items()
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def run(state: StackState, *, quick: bool, with_database: bool, read_ids: tuple[int, int] | None = None) -> dict:
    """Run the drill, write var/drill/<run>/report.{json,md}, print the Markdown; returns the report."""
    if state.database == "sqlite":
        raise StackError("the drill checks writes in PostgreSQL: start the stack with PostgreSQL")
    drill = Drill(state, quick=quick, with_database=with_database, read_ids=read_ids)
    report = drill.run_all()
    directory = config.drill_dir() / report["run"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (directory / "report.md").write_text(text)
    print(text)
    print(f"Report: {directory / 'report.json'} and report.md")
    return report
