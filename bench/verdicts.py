"""The targets (issues 6 and 14) as ratios from one run, each with PASS, FAIL, n/a (not measured) or info."""

import os
import statistics
from dataclasses import asdict, dataclass

from .measure import Results

MIB_PER_GIB = 1024.0


@dataclass
class Ratio:
    name: str
    value: float | None
    target: str
    verdict: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _median(results: Results, system: str, concurrency: int) -> dict | None:
    measurement = results.get(system, concurrency)
    return measurement.median if measurement else None


def _errors_warning(runs: dict[str, dict]) -> str:
    """A warning for the detail column when an input answered more than 1% non-2xx (its latency is suspect)."""
    noisy = [
        f"{system} {run['non_2xx']}/{run['requests']}"
        for system, run in runs.items()
        if run["non_2xx"] > 0.01 * run["requests"]
    ]
    return f"; non-2xx in {', '.join(noisy)}" if noisy else ""


def _missing(name: str, target: str, *needed: str) -> Ratio:
    return Ratio(name, None, target, "n/a", "not measured: " + ", ".join(needed))


def throughput(results: Results, name: str, system: str, baseline: str, concurrency: int, minimum: float | None):
    """req/s of system over req/s of baseline at the same concurrency; minimum=None means informational."""
    target = f">= {minimum:g}x" if minimum is not None else "info"
    ours, theirs = _median(results, system, concurrency), _median(results, baseline, concurrency)
    if not ours or not theirs or not theirs["ok_rps"]:
        absent = [f"{who} c={concurrency}" for who, run in ((system, ours), (baseline, theirs)) if not run]
        return _missing(name, target, *(absent or [f"{baseline} answered nothing"]))
    value = ours["ok_rps"] / theirs["ok_rps"]
    verdict = "info" if minimum is None else ("PASS" if value >= minimum else "FAIL")
    detail = f"{ours['ok_rps']:.0f} vs {theirs['ok_rps']:.0f} 2xx/s" + _errors_warning({system: ours, baseline: theirs})
    return Ratio(name, round(value, 2), target, verdict, detail)


def paired_throughput(results: Results, name: str, system: str, baseline: str, concurrency: int, minimum: float):
    """system over baseline as the median of their back-to-back pairs' ratios (`<system>-paired`, scenarios g and
    m); the sweeps' medians without pairs."""
    pairs = _pairs(results, system, baseline, concurrency)
    if pairs is None:
        return throughput(results, name, system, baseline, concurrency, minimum)
    ours, theirs = pairs
    if not all(run["ok_rps"] for run in theirs.runs):
        return _missing(name, f">= {minimum:g}x", f"{baseline} answered nothing")
    value = statistics.median(m["ok_rps"] / t["ok_rps"] for m, t in zip(ours.runs, theirs.runs, strict=True))
    shown = ", ".join(f"{m['ok_rps']:.0f}/{t['ok_rps']:.0f}" for m, t in zip(ours.runs, theirs.runs, strict=True))
    detail = f"median of {len(ours.runs)} back-to-back pairs (2xx/s ours/{baseline}: {shown})" + _errors_warning(
        {ours.system: ours.median, theirs.system: theirs.median}
    )
    return Ratio(name, round(value, 2), f">= {minimum:g}x", "PASS" if value >= minimum else "FAIL", detail)


def miss_overhead(results: Results) -> Ratio:
    """The gateway's own cost on a miss at one connection: miss p50 minus both upstream calls sent together by a raw
    client (pair-direct), which no gateway can beat; the median of back-to-back pairs' differences when measured."""
    name, target = "gateway overhead on a miss @1 (miss p50 - pair-direct p50)", "<= 1.0 ms"
    pairs = _pairs(results, "ours-miss", "pair-direct", 1)
    if pairs is not None:
        ours, theirs = pairs
        p50s = [(m["latency_ms"]["p50"], t["latency_ms"]["p50"]) for m, t in zip(ours.runs, theirs.runs, strict=True)]
        value = statistics.median(miss - pair for miss, pair in p50s)
        shown = ", ".join(f"{miss:.2f}/{pair:.2f}" for miss, pair in p50s)
        warning = _errors_warning({ours.system: ours.median, theirs.system: theirs.median})
        detail = f"median of {len(p50s)} back-to-back pairs (p50 ms miss/pair-direct: {shown})" + warning
        return Ratio(name, round(value, 2), target, "PASS" if value <= 1.0 and not warning else "FAIL", detail)
    parts = {system: _median(results, system, 1) for system in ("ours-miss", "pair-direct")}
    if not all(parts.values()):
        return _missing(name, target, *(f"{system} c=1" for system, run in parts.items() if not run))
    miss, pair = (parts[system]["latency_ms"]["p50"] for system in ("ours-miss", "pair-direct"))
    value = miss - pair
    warning = _errors_warning(parts)
    detail = f"miss p50 {miss:.2f} ms - pair-direct p50 {pair:.2f} ms" + warning
    return Ratio(name, round(value, 2), target, "PASS" if value <= 1.0 and not warning else "FAIL", detail)


def _pairs(results: Results, system: str, baseline: str, concurrency: int):
    """The paired measurements (`<name>-paired`) of system and baseline at a concurrency, or None."""
    ours, theirs = (results.get(f"{name}-paired", concurrency) for name in (system, baseline))
    if not ours or not theirs or len(ours.runs) != len(theirs.runs):
        return None
    return ours, theirs


def miss_latency(results: Results) -> Ratio:
    """A miss at one connection: p50 below the seed's Flask microservices (the system the seed criticises), and a
    tail no longer than three times its own median."""
    name, target = "cache miss @1: p50 < seed microservices p50, p99 <= 3 x p50", "both"
    parts = {system: _median(results, system, 1) for system in ("ours-miss", "seed-microservices")}
    if not all(parts.values()):
        return _missing(name, target, *(f"{system} c=1" for system, run in parts.items() if not run))
    ours, seed = (parts[system]["latency_ms"] for system in ("ours-miss", "seed-microservices"))
    tail = ours["p99"] / ours["p50"]
    warning = _errors_warning(parts)
    detail = (
        f"p50 {ours['p50']:.2f} ms vs seed {seed['p50']:.2f} ms; p99 {ours['p99']:.2f} ms = {tail:.1f} x p50"
    ) + warning
    holds = ours["p50"] < seed["p50"] and tail <= 3.0 and not warning
    return Ratio(name, round(ours["p50"] / seed["p50"], 2), target, "PASS" if holds else "FAIL", detail)


def scaling(results: Results, concurrency: int) -> Ratio:
    """4 replicas against 1, with the CPU the replicas used, which shows whether the caps held."""
    ratio = throughput(results, "scaling: 4 replicas vs 1", "scaling-4x", "scaling-1x", concurrency, 3.4)
    cores = [_median(results, f"scaling-{n}x", concurrency) for n in (1, 4)]
    if all(run and "replica_cpu_cores" in run for run in cores):
        ratio.detail += (
            f"; replicas used {cores[0]['replica_cpu_cores']:.2f} vs {cores[1]['replica_cpu_cores']:.2f} cores"
        )
    return ratio


def queue_timeout_seconds() -> float:
    """HAPROXY_QUEUE_TIMEOUT as the stack reads it (HAProxy time syntax: 2s, 2000ms, 2000)."""
    raw = os.environ.get("HAPROXY_QUEUE_TIMEOUT", "2s").strip()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if raw.endswith(suffix):
            return float(raw[: -len(suffix)]) * scale
    return float(raw) / 1000


def overload(results: Results, system: str, connections: int) -> Ratio:
    """No socket errors, no timeouts, only 2xx/429/503, p99 within the queue timeout plus one second."""
    limit = queue_timeout_seconds() + 1.0
    variant = "cache hit" if system.endswith("hit") else "cache miss"
    name, target = f"overload @{connections} ({variant})", f"0 errors, 2xx/429/503 only, p99 <= {limit:g}s"
    run = _median(results, system, connections)
    if not run:
        return _missing(name, target, f"{system} c={connections}")
    unexpected = {
        status: n for status, n in run["statuses"].items() if not (200 <= status < 300 or status in (429, 503))
    }
    p99 = run["latency_ms"]["p99"] / 1000
    ok = run["socket_errors"] == 0 and run["timeouts"] == 0 and not unexpected and p99 <= limit
    detail = (
        f"statuses {run['statuses']}, socket errors {run['socket_errors']}, timeouts {run['timeouts']},"
        f" p99 {p99:.2f}s" + (f", unexpected {unexpected}" if unexpected else "")
    )
    return Ratio(name, round(p99, 3), target, "PASS" if ok else "FAIL", detail)


def memory(results: Results) -> Ratio:
    name, target = "memory of the default stack (RSS)", "< 1.5 GiB"
    samples = results.facts.get("memory", {})
    if not samples:
        return _missing(name, target, "stack memory")
    worst = max(samples.values(), key=lambda sample: sample["rss_mib"])
    value = worst["rss_mib"] / MIB_PER_GIB
    detail = f"{worst['rss_mib']:.0f} MiB RSS ({worst['pss_mib']:.0f} MiB PSS) over {worst['processes']} processes"
    return Ratio(name, round(value, 3), target, "PASS" if value < 1.5 else "FAIL", detail)


SEED_TARGETS = {"seed_products": 1_000_000, "seed_users": 200_000}
SEED_SECONDS = 60.0
IMPORT_ROWS_PER_S = 20_000


def seed_time(results: Results, command: str) -> Ratio:
    """The seed command at its target size within a minute; a smaller (quick) catalogue is not judged."""
    rows = SEED_TARGETS[command]
    name, target = f"{command} --count {rows:,}", f"<= {SEED_SECONDS:g} s"
    run = results.facts.get("data", {}).get(command)
    if not run:
        return _missing(name, target, command)
    detail = f"{run['rows']:,} rows in {run['seconds']:.1f} s ({run['rows_per_s']:,} rows/s)"
    if run["rows"] != rows:
        return Ratio(name, None, target, "n/a", f"not at size: {detail}")
    return Ratio(name, run["seconds"], target, "PASS" if run["seconds"] <= SEED_SECONDS else "FAIL", detail)


def import_rate(results: Results, case: str, into: str) -> Ratio:
    name, target = f"import_products rows/s ({into})", f">= {IMPORT_ROWS_PER_S:,}"
    run = results.facts.get("data", {}).get(case)
    if not run:
        return _missing(name, target, case)
    detail = f"{run['created']:,} of {run['rows']:,} rows in {run['seconds']:.1f} s, {run['mode']} mode"
    verdict = "PASS" if run["rows_per_s"] >= IMPORT_ROWS_PER_S and run["created"] == run["rows"] else "FAIL"
    return Ratio(name, run["rows_per_s"], target, verdict, detail)


SCALE_CATALOGUE = {"products": 1_000_000, "users": 200_000}
READ_P50_MS, READ_P99_MS = 20.0, 100.0
SCALE_CONNECTIONS = 16  # the targets' concurrency; runs at one connection are reported, not judged


def scale_reads(results: Results) -> list[Ratio]:
    """Each kind of read at 16 connections within p50 20 ms and p99 100 ms, judged at the full catalogue."""
    at_size = results.facts.get("catalogue") == SCALE_CATALOGUE
    ratios = []
    for m in results.measurements:
        if not m.system.startswith("read-") or m.concurrency != SCALE_CONNECTIONS:
            continue
        run = m.median
        name = f"scale-reads {m.system.removeprefix('read-')} @{m.concurrency}: p50 / p99"
        target = f"<= {READ_P50_MS:g} / {READ_P99_MS:g} ms"
        p50, p99 = run["latency_ms"]["p50"], run["latency_ms"]["p99"]
        detail = f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {run['ok_rps']:.0f} 2xx/s" + _errors_warning({m.system: run})
        if not at_size:
            ratios.append(Ratio(name, round(p50, 2), target, "n/a", f"not at the full catalogue: {detail}"))
            continue
        ok = p50 <= READ_P50_MS and p99 <= READ_P99_MS and not _errors_warning({m.system: run})
        ratios.append(Ratio(name, round(p50, 2), target, "PASS" if ok else "FAIL", detail))
    return ratios or [_missing("scale-reads", f"<= {READ_P50_MS:g} / {READ_P99_MS:g} ms", "read-*")]


def tier_scaling(results: Results, concurrency: int) -> Ratio:
    """4 capped products replicas against 1, through the gateway, with the CPU each tier used."""
    ratio = throughput(results, "tier-scaling: 4 products replicas vs 1", "tier-4x", "tier-1x", concurrency, 3.4)
    runs = [_median(results, f"tier-{n}x", concurrency) for n in (1, 4)]
    if all(run and "tier_cpu_cores" in run for run in runs):
        one, four = (run["tier_cpu_cores"] for run in runs)
        ratio.detail += (
            f"; cores used (1 vs 4 replicas): products {one['products']:.2f} vs {four['products']:.2f},"
            f" gateway {one['gateway']:.2f} vs {four['gateway']:.2f}, users {one['users']:.2f} vs {four['users']:.2f}"
        )
    return ratio


def _stale_totals(measurement) -> tuple[int, int]:
    """(stale reads, samples) over every run of a mixed measurement."""
    samples = [run.get("stale", {}) for run in measurement.runs]
    return sum(s.get("stale", 0) for s in samples), sum(s.get("samples", 0) for s in samples)


def hit_ratio(run: dict) -> float | None:
    cache = run.get("cache", {})
    looked = sum(cache.values())
    return cache.get("HIT", 0) / looked if looked else None


def mixed(results: Results, concurrency: int) -> list[Ratio]:
    """Ours against the cached monolith on the mixed workload: throughput, p99, stale reads, hit ratios. The two
    take turns run after run (bench/scale.py), so each ratio is the median of the pairs' ratios."""
    c = concurrency
    name, target = f"mixed @{c}: ours vs cached monolith", ">= 1x"
    p99_name, p99_target = f"mixed @{c}: p99 ours vs cached monolith", "<= 1.00"
    ours, theirs = results.get("mixed-ours", c), results.get("mixed-monolith", c)
    pairs = list(zip(ours.runs, theirs.runs, strict=False)) if ours and theirs else []
    if not pairs or not all(other["ok_rps"] and other["latency_ms"]["p99"] for _, other in pairs):
        absent = ["the cached monolith answered nothing"] if pairs else ["mixed-ours", "mixed-monolith"]
        return [_missing(name, target, *absent), _missing(p99_name, p99_target, *absent), *_stale_reads(results, c)]
    throughput_ratio = statistics.median(mine["ok_rps"] / other["ok_rps"] for mine, other in pairs)
    p99_ratio = statistics.median(mine["latency_ms"]["p99"] / other["latency_ms"]["p99"] for mine, other in pairs)
    shown = ", ".join(f"{mine['ok_rps']:.0f}/{other['ok_rps']:.0f}" for mine, other in pairs)
    tails = ", ".join(f"{mine['latency_ms']['p99']:.0f}/{other['latency_ms']['p99']:.0f}" for mine, other in pairs)
    warning = _errors_warning({"mixed-ours": ours.median, "mixed-monolith": theirs.median})
    return [
        Ratio(
            name,
            round(throughput_ratio, 2),
            target,
            "PASS" if throughput_ratio >= 1.0 else "FAIL",
            f"median of {len(pairs)} pairs taking turns (2xx/s ours/monolith: {shown})" + warning,
        ),
        Ratio(
            p99_name,
            round(p99_ratio, 2),
            p99_target,
            "PASS" if p99_ratio <= 1.0 else "FAIL",
            f"median of {len(pairs)} pairs (p99 ms ours/monolith: {tails})",
        ),
        *_stale_reads(results, c),
    ]


def _stale_reads(results: Results, c: int) -> list[Ratio]:
    """Each system's stale reads over its runs, with its cache hit ratio."""
    ratios = []
    for system, label in (("mixed-ours", "ours"), ("mixed-monolith", "cached monolith")):
        name, target = f"mixed: stale reads ({label})", "0"
        measurement = results.get(system, c)
        if not measurement:
            ratios.append(_missing(name, target, system))
            continue
        stale, samples = _stale_totals(measurement)
        verdict = "n/a" if not samples else ("PASS" if stale == 0 else "FAIL")
        ratio = hit_ratio(measurement.median)
        hits = "-" if ratio is None else f"{ratio:.1%}"
        ratios.append(
            Ratio(name, stale, target, verdict, f"{stale} of {samples} sampled reads; cache hit ratio {hits}")
        )
    return ratios


def evaluate(results: Results, *, concurrency: int, scaling_concurrency: int, overload_connections: int) -> list[Ratio]:
    c = concurrency
    return [
        paired_throughput(results, f"cache hit @{c} vs Django floor", "ours-hit", "floor", c, 1.0),
        throughput(results, f"cache hit @{c} vs seed Flask microservices", "ours-hit", "seed-microservices", c, 10),
        throughput(results, f"cache hit @{c} vs seed Flask monolith", "ours-hit", "seed-monolith", c, 1.5),
        miss_overhead(results),
        miss_latency(results),
        paired_throughput(results, f"cache miss @{c} vs Django monolith", "ours-miss", "django-monolith", c, 0.75),
        scaling(results, scaling_concurrency),
        overload(results, "overload-hit", overload_connections),
        overload(results, "overload-miss", overload_connections),
        memory(results),
        throughput(results, f"cache hit @{c} vs Django monolith", "ours-hit", "django-monolith", c, None),
        throughput(results, "scaling: 2 replicas vs 1", "scaling-2x", "scaling-1x", scaling_concurrency, None),
        seed_time(results, "seed_products"),
        seed_time(results, "seed_users"),
        import_rate(results, "import_fresh", "into an empty table"),
        import_rate(results, "import_live", "into the seeded catalogue"),
        *scale_reads(results),
        tier_scaling(results, scaling_concurrency),
        *mixed(results, concurrency),
    ]
