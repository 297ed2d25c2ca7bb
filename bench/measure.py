"""Measurements: repeated wrk runs per (system, concurrency), the median kept, one progress line each."""

import os
import statistics
import time
from dataclasses import asdict, dataclass, field

from . import wrk
from .plan import Plan
from .wrk import Target


@dataclass
class Measurement:
    """Every run of one system at one concurrency; `median` is the run with the median 2xx throughput."""

    scenario: str
    system: str
    concurrency: int
    url: str
    runs: list[dict]

    @property
    def median(self) -> dict:
        ordered = sorted(self.runs, key=lambda run: run["ok_rps"])
        return ordered[(len(ordered) - 1) // 2]

    def as_dict(self) -> dict:
        return {**asdict(self), "median": self.median, "rps_spread": self.spread()}

    def spread(self) -> float:
        """(max - min) / median of the runs' 2xx/s: how noisy this point was."""
        rates = [run["ok_rps"] for run in self.runs]
        middle = statistics.median(rates)
        return round((max(rates) - min(rates)) / middle, 3) if middle else 0.0


@dataclass
class Results:
    """Everything a run produced; written out as results.json."""

    measurements: list[Measurement] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def get(self, system: str, concurrency: int) -> Measurement | None:
        for measurement in self.measurements:
            if measurement.system == system and measurement.concurrency == concurrency:
                return measurement
        return None

    def by_scenario(self) -> dict[str, list[Measurement]]:
        grouped: dict[str, list[Measurement]] = {}
        for measurement in self.measurements:
            grouped.setdefault(measurement.scenario, []).append(measurement)
        return grouped


class Runner:
    """Runs wrk for the plan and prints one line per measurement as it finishes."""

    def __init__(self, plan: Plan, results: Results):
        self.plan = plan
        self.results = results
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.0f}s] {text}", flush=True)

    def warm_up(self, target: Target, *, duration: int | None = None, connections: int = 16) -> None:
        """A short unrecorded run so caches, connection pools and lazy imports are warm."""
        wrk.run(target, connections, duration or self.plan.warmup, timeout=self.plan.wrk_timeout)

    def measure(
        self,
        scenario: str,
        system: str,
        target: Target,
        concurrency: int,
        *,
        duration: int | None = None,
        repeats: int | None = None,
    ) -> Measurement:
        runs = [self.run_once(target, concurrency, duration) for _ in range(repeats or self.plan.repeats)]
        return self.record(scenario, system, target, concurrency, runs)

    def run_once(self, target: Target, concurrency: int, duration: int | None = None) -> dict:
        """One wrk run, with_load()."""
        return with_load(wrk.run(target, concurrency, duration or self.plan.duration, timeout=self.plan.wrk_timeout))

    def record(self, scenario: str, system: str, target: Target, concurrency: int, runs: list[dict]) -> Measurement:
        measurement = Measurement(scenario, system, concurrency, target.url, runs)
        self.results.measurements.append(measurement)
        self.say(progress_line(measurement))
        return measurement


def with_load(run: dict) -> dict:
    """A run with the machine's 1-minute load average at its end (others' work shows up there)."""
    return {**run, "load1": round(os.getloadavg()[0], 2)}


def progress_line(measurement: Measurement) -> str:
    run = measurement.median
    latency = run["latency_ms"]
    return (
        f"{measurement.system:<22} c={measurement.concurrency:<5} {run['ok_rps']:>9.1f} 2xx/s"
        f"  p50 {latency['p50']:>8.2f} ms  p99 {latency['p99']:>8.2f} ms"
        f"  non-2xx {run['non_2xx']:<6} socket errors {run['socket_errors']:<4} timeouts {run['timeouts']}"
        f"  ({len(measurement.runs)} run{'s' if len(measurement.runs) > 1 else ''})"
    )
