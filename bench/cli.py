"""./manage_all.sh bench [--quick]: run every scenario, print the verdicts, write bench/results/<run>/."""

import argparse
import dataclasses
import fcntl
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from . import report, verdicts
from .measure import Results, Runner
from .plan import FULL, PORTS, QUICK, RESULTS_DIR, Plan
from .processes import BenchError, Supervisor, ephemeral_overlap
from .scenarios import SCENARIOS, Context

EXIT_OK, EXIT_TARGETS_MISSED, EXIT_HARNESS_FAILED = 0, 1, 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="manage_all.sh bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, concurrencies 1 and 64 (CI; < 3 min)")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only these scenarios")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (overrides the plan)")
    parser.add_argument("--repeats", type=int, help="wrk runs per point; the median is kept (overrides the plan)")
    return parser.parse_args(argv)


def build_plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    overrides = {name: getattr(args, name) for name in ("duration", "repeats") if getattr(args, name)}
    return dataclasses.replace(plan, **overrides)


def raise_fd_limit() -> None:
    """Raise the soft open-files limit to the hard one: wrk and HAProxy hold one descriptor per connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def lock_results_dir():
    """One benchmark at a time per checkout: they would fight over ports, cores and the bench_ databases."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    handle = open(RESULTS_DIR / ".lock", "w")  # noqa: SIM115 (held open for the whole run: it is the lock)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise BenchError("another benchmark is running (bench/results/.lock is held)") from exc
    return handle


def check_tools() -> None:
    missing = [tool for tool in ("wrk", "haproxy") if shutil.which(tool) is None]
    if missing:
        raise BenchError(f"missing {', '.join(missing)}: apt-get install {' '.join(missing)}")


def tool_version(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else argv[0]


def machine_facts() -> dict:
    return {
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": tool_version(["wrk", "-v"]),
        "haproxy": tool_version(["haproxy", "-v"]),
        "load_before": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def on_sigterm(signum, frame) -> None:
    """A SIGTERM stops the run the way Ctrl-C does, so every finally block still stops what was started."""
    raise KeyboardInterrupt


def run_scenarios(ctx: Context, names: list[str]) -> bool:
    """Run each scenario; a failing one is recorded and the next one runs. False when interrupted."""
    for name in names:
        try:
            SCENARIOS[name](ctx)
        except (BenchError, OSError, subprocess.SubprocessError) as exc:
            ctx.results.failures.append({"scenario": name, "error": str(exc)})
            ctx.runner.say(f"scenario {name} FAILED: {exc}")
        except KeyboardInterrupt:
            ctx.runner.say("interrupted: stopping everything the benchmark started")
            ctx.results.failures.append({"scenario": name, "error": "interrupted"})
            return False
    return True


def print_verdicts(ratios: list[verdicts.Ratio]) -> None:
    print("\nVerdicts (ratios from this run):", flush=True)
    for ratio in ratios:
        value = "-" if ratio.value is None else f"{ratio.value:.2f}"
        print(f"  {ratio.verdict:<5} {ratio.name:<48} {value:>8}  (target {ratio.target})  {ratio.detail}")


def exit_code(plan: Plan, results: Results, ratios: list[verdicts.Ratio], completed: bool) -> int:
    if not completed or results.failures:
        return EXIT_HARNESS_FAILED
    if not plan.quick and any(ratio.verdict == "FAIL" for ratio in ratios):
        return EXIT_TARGETS_MISSED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = build_plan(args)
    try:
        check_tools()
        lock = lock_results_dir()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    raise_fd_limit()
    signal.signal(signal.SIGTERM, on_sigterm)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / run_id
    results = Results(facts={"auth": "not measured", "cpu_caps": "not measured"})
    ctx = Context(plan, Runner(plan, results), Supervisor(run_dir / "logs"), results, run_dir)
    header = {"run_id": run_id, "quick": plan.quick, "plan": dataclasses.asdict(plan), "machine": machine_facts()}
    if clashes := ephemeral_overlap(list(PORTS.values())):
        results.notes.append(f"Ports {clashes} are inside this machine's ephemeral port range: a bind may fail.")
    ctx.runner.say(f"benchmark {run_id} ({'quick' if plan.quick else 'full'}): results in {run_dir}")
    try:
        completed = run_scenarios(ctx, [name for name in SCENARIOS if not args.only or name in args.only])
    finally:
        ctx.supervisor.stop_all()
        lock.close()
    header["machine"]["load_after"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    header.update(
        auth=results.facts["auth"], cpu_caps=results.facts["cpu_caps"], gateway_cache=results.facts.get("gateway_cache")
    )
    header["elapsed_s"] = round(time.monotonic() - ctx.runner.started)
    ratios = verdicts.evaluate(
        results,
        concurrency=plan.ratio_concurrency,
        scaling_concurrency=plan.scaling_connections,
        overload_connections=plan.overload_connections,
    )
    print_verdicts(ratios)
    path = report.write(run_dir, results, ratios, header)
    print(f"\nReport: {path}\nLatest: {RESULTS_DIR / 'latest'}", flush=True)
    return exit_code(plan, results, ratios, completed)
