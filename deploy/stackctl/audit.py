"""After a load: keyed writes checked against PostgreSQL, and attempts per client request read from the logs.

Writes (stackctl.load's keyed creates and PATCHes, products service):
- lost: acknowledged (2xx) but absent: no product with the create's sku and id, or no idempotency record
  for the PATCH's key, or a product whose stock is not the one its last applied PATCH set;
- duplicated: more than one product for one sku, or a keyed create answered 409 "already exists" (the
  same create ran twice);
- unacknowledged: sent but never answered 2xx; each is found applied or not (a client that gave up knows
  neither, which is why it should retry with the same key).

Attempts: every attempt of the client carries its own X-Request-ID (<run>-<number>.<n>); HAProxy logs one
line per request at each frontend with the replica it ended on and its retries, so the attempts one client
attempt caused at a tier are the sum over that tier's lines of retries + 1, or of retries alone when the
line ends on <NOSRV> (its last retry found no replica). Such a line is also HAProxy 2.6 closing the
connection without an answer when the first attempt had reused a server connection (http_return_srv_error
with SF_SRV_REUSED), which the gateway, as any HTTP client may, replays once (RFC 9112 §9.3.1): those
"silent closes" are counted, since each can add one more HAProxy request (at most 2 attempts) at a tier.
"""

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .load import ClientRequest, percentile

TIERS = {"fe_gateway": "gateway", "fe_users": "users", "fe_products": "products"}
_RETRIES = re.compile(r"\+?(\d+)")


@dataclass
class WriteAudit:
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unacknowledged_applied: list[str] = field(default_factory=list)
    unacknowledged_not_applied: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.lost and not self.duplicated

    def as_dict(self) -> dict:
        return {
            "acknowledged": self.acknowledged,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "unacknowledged": len(self.unacknowledged_applied) + len(self.unacknowledged_not_applied),
            "unacknowledged_applied": len(self.unacknowledged_applied),
            "examples": {"lost": self.lost[:5], "duplicated": self.duplicated[:5]},
        }


def keyed_writes(products_dsn: str, requests: list[ClientRequest]) -> WriteAudit:
    """Compare the load's keyed creates and PATCHes with the products database."""
    import psycopg2

    creates = [request for request in requests if request.call.kind == "create"]
    patches = [request for request in requests if request.call.kind == "patch"]
    skus = [request.call.json["sku"] for request in creates]
    keys = [request.call.key for request in patches]
    connection = psycopg2.connect(products_dsn)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT sku, count(*), min(id) FROM products_product WHERE sku = ANY(%s) GROUP BY sku", [skus]
            )
            rows = {sku: (count, product_id) for sku, count, product_id in cursor.fetchall()}
            cursor.execute("SELECT key FROM products_idempotencyrecord WHERE key = ANY(%s)", [keys])
            recorded = {key for (key,) in cursor.fetchall()}
            product_ids = sorted({int(request.call.path.split("/")[3]) for request in patches})
            cursor.execute("SELECT id, stock FROM products_product WHERE id = ANY(%s)", [product_ids])
            stocks = dict(cursor.fetchall())
    finally:
        connection.close()

    audit = WriteAudit()
    for request in creates:
        sku = request.call.json["sku"]
        count, product_id = rows.get(sku, (0, None))
        if count > 1:
            audit.duplicated.append(sku)
        if request.final.status in (400, 409) and "already exists" in request.final.body:
            audit.duplicated.append(sku)
        if request.ok:
            audit.acknowledged += 1
            if count == 0 or product_id != request.answer["id"]:
                audit.lost.append(sku)
        else:
            (audit.unacknowledged_applied if count else audit.unacknowledged_not_applied).append(sku)

    last_applied: dict[int, int] = {}
    for request in patches:  # in the order each worker sent them; a product belongs to one worker
        product_id = int(request.call.path.split("/")[3])
        applied = request.call.key in recorded
        if applied:
            last_applied[product_id] = request.call.json["stock"]
        if request.ok:
            audit.acknowledged += 1
            if not applied:
                audit.lost.append(request.call.key)
        else:
            (audit.unacknowledged_applied if applied else audit.unacknowledged_not_applied).append(request.call.key)
    for product_id, stock in last_applied.items():
        if stocks.get(product_id) != stock:
            audit.lost.append(f"product {product_id}: stock {stocks.get(product_id)}, last write set {stock}")
    return audit


@dataclass
class TierAttempts:
    """Attempts at one tier per client attempt that reached it."""

    counts: Counter = field(default_factory=Counter)  # attempts -> how many client attempts made that many
    silent_closes: int = 0  # lines whose retry found no replica (HAProxy may have closed without an answer)

    @property
    def max(self) -> int:
        return max(self.counts, default=0)

    @property
    def p99(self) -> int:
        return percentile(list(self.counts.elements()), 0.99) or 0

    def as_dict(self) -> dict:
        return {
            "max": self.max,
            "p99": self.p99,
            "distribution": dict(sorted(self.counts.items())),
            "silent_closes": self.silent_closes,
        }


def _haproxy_attempts(log_dir: Path, run: str) -> Iterator[tuple[str, str, int, bool]]:
    """(request id, tier, retries, ended on a replica) of each of HAProxy's log lines of this run."""
    haproxy_log = Path(log_dir) / "haproxy.log"
    if not haproxy_log.exists():
        return
    with open(haproxy_log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if run not in line or not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            request_id, tier = record.get("request_id", ""), TIERS.get(record.get("frontend"))
            if tier is None or not request_id.startswith(run):
                continue
            retries = _RETRIES.fullmatch(str(record.get("retries", "0")))
            yield (
                request_id,
                tier,
                int(retries.group(1)) if retries else 0,
                record.get("server") not in ("<NOSRV>", None),
            )


def attempts_per_request(log_dir: Path, run: str, request_ids: set[str] | None = None) -> dict[str, TierAttempts]:
    """{tier: attempts per client attempt} from HAProxy's log lines of this run (ids starting with run)."""
    per_id: dict[str, Counter] = defaultdict(Counter)
    tiers = {tier: TierAttempts() for tier in TIERS.values()}
    for request_id, tier, retried, ended_on_a_replica in _haproxy_attempts(log_dir, run):
        if request_ids is not None and request_id not in request_ids:
            continue
        per_id[request_id][tier] += retried + ended_on_a_replica
        tiers[tier].silent_closes += retried > 0 and not ended_on_a_replica
    for counts in per_id.values():
        for tier, count in counts.items():
            if count:
                tiers[tier].counts[count] += 1
    return tiers


def retried_at(log_dir: Path, run: str, tier: str) -> set[str]:
    """The request ids of this run that HAProxy sent to more than one replica of a tier."""
    return {request_id for request_id, at, retried, _ in _haproxy_attempts(log_dir, run) if at == tier and retried}


def answered_per_request(log_dir: Path, run: str) -> dict[str, Counter]:
    """{service: attempts per client attempt} counted from the replicas' own request lines instead."""
    per_id: dict[tuple[str, str], int] = Counter()
    for path in Path(log_dir).glob("*-*.log"):
        service = path.stem.rsplit("-", 1)[0]
        with open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if run in line and '"svc_common.request"' in line:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if str(record.get("request_id", "")).startswith(run):
                        per_id[(service, record["request_id"])] += 1
    result: dict[str, Counter] = defaultdict(Counter)
    for (service, _), count in per_id.items():
        result[service][count] += 1
    return dict(result)


def as_dict(tiers: dict[str, TierAttempts]) -> dict:
    return {tier: attempts.as_dict() for tier, attempts in tiers.items()}
