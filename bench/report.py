"""Write a run's results.json, report.md and PNG plots, and point bench/results/latest at them."""

import json
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)

from .measure import Measurement, Results  # noqa: E402
from .verdicts import Ratio, hit_ratio  # noqa: E402

LABELS = {
    "seed-monolith": "seed Flask monolith (dev server)",
    "seed-microservices": "seed Flask microservices (dev servers)",
    "django-monolith": "Django monolith (DRF, 1 PostgreSQL)",
    "floor": "Django floor (JsonResponse, no DB)",
    "haproxy-alone": "HAProxy alone (http-request return)",
    "ours-hit": "ours via HAProxy, cache hit",
    "ours-miss": "ours via HAProxy, cache miss",
    "users-direct": "users frontend (direct)",
    "products-direct": "products frontend (direct)",
    "pair-direct": "users + products together, raw client",
    "overload-hit": "ours, overload, cache hit",
    "overload-miss": "ours, overload, cache miss",
    "floor-paired": "Django floor, paired with the cache hit",
    "ours-hit-paired": "ours, cache hit, paired with the floor",
    "ours-miss-paired": "ours, cache miss, paired with pair-direct (c=1) and the monolith (c=64)",
    "pair-direct-paired": "users + products together, raw client, paired with the miss",
    "django-monolith-paired": "Django monolith, paired with the cache miss",
    "mixed-ours": "ours, mixed workload (page cache on)",
    "mixed-monolith": "Django monolith + Django's Redis cache, mixed workload",
}


def label(system: str) -> str:
    if system.startswith("scaling-"):
        return f"floor x{system.removeprefix('scaling-').removesuffix('x')} replicas behind HAProxy"
    if system.startswith("tier-"):
        return f"ours, products x{system.removeprefix('tier-').removesuffix('x')} (capped), through the gateway"
    if system.startswith("read-"):
        return f"ours, {system.removeprefix('read-')} reads, page cache off"
    return LABELS.get(system, system)


def write(run_dir: Path, results: Results, ratios: list[Ratio], header: dict) -> Path:
    """All files of one run; returns the Markdown report's path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        **header,
        "measurements": [m.as_dict() for m in results.measurements],
        "ratios": [r.as_dict() for r in ratios],
        "facts": results.facts,
        "notes": results.notes,
        "failures": results.failures,
    }
    (run_dir / "results.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    plots = write_plots(run_dir, results)
    report = run_dir / "report.md"
    report.write_text(markdown(results, ratios, header, plots))
    point_latest(run_dir)
    return report


def point_latest(run_dir: Path) -> None:
    """bench/results/latest: a symlink to this run, or a copy where symlinks are not allowed."""
    latest = run_dir.parent / "latest"
    if latest.is_symlink() or latest.is_file():
        latest.unlink()
    elif latest.exists():
        shutil.rmtree(latest)
    try:
        latest.symlink_to(run_dir.name, target_is_directory=True)
    except OSError:
        shutil.copytree(run_dir, latest)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


COLUMNS = (
    "scenario",
    "system",
    "conns",
    "req/s",
    "2xx/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "non-2xx",
    "socket err",
    "timeouts",
    "spread",
)


def measurement_row(m: Measurement) -> str:
    run = m.median
    latency = run["latency_ms"]
    cells = [
        m.scenario,
        label(m.system),
        str(m.concurrency),
        f"{run['rps']:.0f}",
        f"{run['ok_rps']:.0f}",
        fmt(latency["p50"]),
        fmt(latency["p90"]),
        fmt(latency["p99"]),
        str(run["non_2xx"]),
        str(run["socket_errors"]),
        str(run["timeouts"]),
        f"{m.spread():.0%}" if len(m.runs) > 1 else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def measurements_table(results: Results) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    return lines + [measurement_row(m) for m in results.measurements]


def ratios_table(ratios: list[Ratio]) -> list[str]:
    lines = ["| check | value | target | verdict | detail |", "|---|---|---|---|---|"]
    for r in ratios:
        lines.append(f"| {r.name} | {fmt(r.value)} | {r.target} | **{r.verdict}** | {r.detail} |")
    return lines


def memory_lines(results: Results) -> list[str]:
    lines = []
    for variant, sample in results.facts.get("memory", {}).items():
        lines += [
            f"Stack `{variant}`: **{sample['rss_mib']:.0f} MiB RSS** ({sample['pss_mib']:.0f} MiB PSS, shared pages"
            f" counted once) over {sample['processes']} processes.",
            "",
            "| process | processes | RSS MiB | PSS MiB |",
            "|---|---|---|---|",
        ]
        for name, row in sample["by_process"].items():
            lines.append(f"| {name} | {row['processes']} | {row['rss_mib']:.1f} | {row['pss_mib']:.1f} |")
        lines.append("")
    return lines or ["Not measured."]


DATA_ROWS = {
    "seed_products": "seed_products --count N (generate_series)",
    "seed_users": "seed_users --count N (generate_series)",
    "import_fresh": "import_products FILE.csv into an empty table",
    "import_live": "import_products FILE.csv into the seeded catalogue",
}


def data_lines(results: Results) -> list[str]:
    """The `data` scenario: each command's rows, seconds and rows/s."""
    found = results.facts.get("data", {})
    if not found:
        return ["Not measured."]
    lines = ["| command | rows | created | seconds | rows/s | mode |", "|---|---|---|---|---|---|"]
    for key, title in DATA_ROWS.items():
        if run := found.get(key):
            created = run.get("created", run["rows"])
            lines.append(
                f"| {title} | {run['rows']:,} | {created:,} | {run['seconds']:.1f} | {run['rows_per_s']:,}"
                f" | {run.get('mode', '-')} |"
            )
    lines += ["", "Seeds are timed from the command's start (Django included); imports by the command itself."]
    return lines + [""]


def scale_lines(results: Results) -> list[str]:
    """scale-reads per read, tier-scaling per replica count with each tier's CPU, mixed side by side."""
    lines = []
    reads = [m for m in results.measurements if m.system.startswith("read-")]
    if reads:
        catalogue = results.facts.get("catalogue", {})
        lines += [
            f"### scale-reads: {catalogue.get('products', 0):,} products, {catalogue.get('users', 0):,} users,"
            " page cache off",
            "",
            "| read | conns | 2xx/s | p50 ms | p99 ms | non-2xx |",
            "|---|---|---|---|---|---|",
        ]
        for m in reads:
            run = m.median
            lines.append(
                f"| {m.system.removeprefix('read-')} | {m.concurrency} | {run['ok_rps']:.0f} |"
                f" {fmt(run['latency_ms']['p50'])} | {fmt(run['latency_ms']['p99'])} | {run['non_2xx']} |"
            )
        lines.append("")
    tiers = sorted(
        (m for m in results.measurements if m.system.startswith("tier-")),
        key=lambda m: int(m.system.removeprefix("tier-").removesuffix("x")),
    )
    if tiers:
        lines += [
            "### tier-scaling: products replicas, each capped (" + str(results.facts.get("tier_caps", "-")) + ")",
            "",
            "| products replicas | 2xx/s | p50 ms | p99 ms | CPU cores: products | gateway | users |",
            "|---|---|---|---|---|---|---|",
        ]
        for m in tiers:
            run, cores = m.median, m.median.get("tier_cpu_cores", {})
            lines.append(
                f"| {m.system.removeprefix('tier-').removesuffix('x')} | {run['ok_rps']:.0f} |"
                f" {fmt(run['latency_ms']['p50'])} | {fmt(run['latency_ms']['p99'])} |"
                f" {cores.get('products', '-')} | {cores.get('gateway', '-')} | {cores.get('users', '-')} |"
            )
        lines.append("")
    mixed = [m for m in results.measurements if m.system.startswith("mixed-")]
    if mixed:
        lines += [
            "### mixed: Zipf s=1.1, 90% aggregate reads, 5% lists or searches, 5% PATCHes",
            "",
            "| system | conns | 2xx/s | p50 ms | p99 ms | cache hit ratio | stale reads / sampled | non-2xx |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for m in mixed:
            run = m.median
            ratio = hit_ratio(run)
            stale = sum(r.get("stale", {}).get("stale", 0) for r in m.runs)
            samples = sum(r.get("stale", {}).get("samples", 0) for r in m.runs)
            lines.append(
                f"| {label(m.system)} | {m.concurrency} | {run['ok_rps']:.0f} | {fmt(run['latency_ms']['p50'])} |"
                f" {fmt(run['latency_ms']['p99'])} | {'-' if ratio is None else f'{ratio:.1%}'} |"
                f" {stale} / {samples} | {run['non_2xx']} |"
            )
        lines.append("")
    return lines or ["Not measured."]


def cache_outcomes(per_stack: dict | None) -> str:
    """'cache-hit: HIT 70655, MISS 1; cache-miss: off 9741'."""
    if not per_stack:
        return "-"
    return "; ".join(
        f"{stack}: " + ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
        for stack, counts in per_stack.items()
    )


def header_lines(header: dict) -> list[str]:
    machine = header["machine"]
    return [
        f"# Benchmark {header['run_id']} ({'quick' if header['quick'] else 'full'} run)",
        "",
        f"- Machine: {machine['cores']} cores, {machine['kernel']}, load average before {machine['load_before']},"
        f" after {machine.get('load_after', '-')}; {machine['wrk']}; {machine['haproxy']}.",
        f"- Plan: {header['plan']['duration']} s per run, {header['plan']['repeats']} run(s) per point (median"
        f" by 2xx/s), warm-up {header['plan']['warmup']} s, concurrencies {header['plan']['concurrencies']}.",
        f"- Auth on our stack: **{header['auth']}**. CPU caps for scaling: {header['cpu_caps']}.",
        f"- Gateway page cache as its request log shows it: {cache_outcomes(header.get('gateway_cache'))}.",
        f"- Wall time: {header.get('elapsed_s', '-')} s. Load generator and servers share the same cores:"
        " compare ratios from this run, not absolute numbers across machines (see docs/benchmark.md).",
        "",
    ]


def markdown(results: Results, ratios: list[Ratio], header: dict, plots: list[str]) -> str:
    lines = header_lines(header)
    lines += ["## Verdicts", "", *ratios_table(ratios), ""]
    lines += ["## Throughput and latency (median run)", "", *measurements_table(results), ""]
    lines += ["## Memory", "", *memory_lines(results)]
    lines += ["## Loading data", "", *data_lines(results)]
    lines += ["## At the catalogue's size", "", *scale_lines(results), ""]
    lines += ["## Plots", ""] + [f"![{name}]({name})" for name in plots] + [""]
    if results.notes or results.failures:
        lines += ["## Notes", ""]
        lines += [f"- {note}" for note in results.notes]
        lines += [f"- **{f['scenario']} failed**: {f['error']}" for f in results.failures]
        lines.append("")
    return "\n".join(lines)


def curves(results: Results) -> dict[str, list[Measurement]]:
    """Systems measured at two or more concurrencies, in connection order."""
    grouped: dict[str, list[Measurement]] = {}
    for m in results.measurements:
        if not m.system.startswith(("scaling-", "overload-", "tier-", "read-", "mixed-")):
            grouped.setdefault(m.system, []).append(m)
    return {system: sorted(ms, key=lambda m: m.concurrency) for system, ms in grouped.items() if len(ms) > 1}


def plot_throughput(path: Path, results: Results) -> bool:
    data = curves(results)
    if not data:
        return False
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for system, ms in data.items():
        axes.plot([m.concurrency for m in ms], [m.median["ok_rps"] for m in ms], marker="o", label=label(system))
    axes.set(xscale="log", yscale="log", xlabel="connections", ylabel="2xx responses/s (median run)")
    axes.set_title("Throughput vs concurrency")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_latency(path: Path, results: Results) -> bool:
    data = curves(results)
    if not data:
        return False
    figure, panels = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for axes, percentile in zip(panels, ("p50", "p99"), strict=True):
        for system, ms in data.items():
            values = [m.median["latency_ms"][percentile] for m in ms]
            axes.plot([m.concurrency for m in ms], values, marker="o", label=label(system))
        axes.set(xscale="log", yscale="log", xlabel="connections", ylabel="ms", title=f"Latency {percentile}")
        axes.grid(True, which="both", alpha=0.3)
    panels[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_scaling(path: Path, results: Results) -> bool:
    points = sorted(
        (int(m.system.removeprefix("scaling-").removesuffix("x")), m.median["ok_rps"])
        for m in results.measurements
        if m.system.startswith("scaling-")
    )
    if not points:
        return False
    replicas, rates = zip(*points, strict=True)
    figure, axes = plt.subplots(figsize=(7, 5))
    axes.plot(replicas, rates, marker="o", label="measured")
    axes.plot(replicas, [rates[0] * n / replicas[0] for n in replicas], linestyle="--", label="linear")
    axes.set(xlabel="replicas (each CPU-capped)", ylabel="2xx responses/s", title="Horizontal scaling", xticks=replicas)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_scale_reads(path: Path, results: Results) -> bool:
    reads = [m for m in results.measurements if m.system.startswith("read-") and m.concurrency > 1]
    if not reads:
        return False
    names = [m.system.removeprefix("read-") for m in reads]
    positions = range(len(reads))
    figure, axes = plt.subplots(figsize=(10, 5))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], [m.median["latency_ms"]["p50"] for m in reads], width, label="p50")
    axes.bar([p + width / 2 for p in positions], [m.median["latency_ms"]["p99"] for m in reads], width, label="p99")
    axes.axhline(20, color="tab:blue", linestyle="--", linewidth=1, label="p50 target 20 ms")
    axes.axhline(100, color="tab:orange", linestyle="--", linewidth=1, label="p99 target 100 ms")
    axes.set_xticks(list(positions), names, rotation=30, ha="right")
    axes.set(ylabel="ms", title=f"Reads at the catalogue's size, {reads[0].concurrency} connections, page cache off")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_tier_scaling(path: Path, results: Results) -> bool:
    tiers = sorted(
        (int(m.system.removeprefix("tier-").removesuffix("x")), m.median)
        for m in results.measurements
        if m.system.startswith("tier-")
    )
    if not tiers:
        return False
    replicas = [n for n, _ in tiers]
    rates = [run["ok_rps"] for _, run in tiers]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    left.plot(replicas, rates, marker="o", label="measured")
    left.plot(replicas, [rates[0] * n / replicas[0] for n in replicas], linestyle="--", label="linear")
    left.set(xlabel="products replicas (each capped)", ylabel="2xx responses/s", xticks=replicas)
    left.set_title("Products tier through the gateway")
    left.legend()
    left.grid(True, alpha=0.3)
    for tier in ("products", "gateway", "users"):
        right.plot(replicas, [run.get("tier_cpu_cores", {}).get(tier, 0) for _, run in tiers], marker="o", label=tier)
    right.set(xlabel="products replicas", ylabel="CPU cores used", xticks=replicas, title="CPU per tier")
    right.legend()
    right.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_mixed(path: Path, results: Results) -> bool:
    mixed = [m for m in results.measurements if m.system.startswith("mixed-")]
    if not mixed:
        return False
    names = ["ours" if m.system == "mixed-ours" else "cached monolith" for m in mixed]
    figure, panels = plt.subplots(1, 3, figsize=(13, 4.5))
    panels[0].bar(names, [m.median["ok_rps"] for m in mixed], color=["tab:green", "tab:gray"][: len(mixed)])
    panels[0].set(title="2xx responses/s", ylabel="2xx/s")
    for offset, percentile in ((-0.2, "p50"), (0.2, "p99")):
        values = [m.median["latency_ms"][percentile] for m in mixed]
        panels[1].bar([i + offset for i in range(len(mixed))], values, 0.4, label=percentile)
    panels[1].set_xticks(range(len(mixed)), names)
    panels[1].set(title="Latency", ylabel="ms")
    panels[1].legend()
    panels[2].bar(
        names, [100 * (hit_ratio(m.median) or 0) for m in mixed], color=["tab:green", "tab:gray"][: len(mixed)]
    )
    panels[2].set(title="Cache hit ratio of reads", ylabel="%", ylim=(0, 100))
    for axes in panels:
        axes.grid(True, axis="y", alpha=0.3)
    figure.suptitle(f"Mixed workload at {mixed[0].concurrency} connections (Zipf s=1.1, 90/5/5)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def write_plots(run_dir: Path, results: Results) -> list[str]:
    made = []
    for name, plot in (
        ("throughput.png", plot_throughput),
        ("latency.png", plot_latency),
        ("scaling.png", plot_scaling),
        ("scale_reads.png", plot_scale_reads),
        ("tier_scaling.png", plot_tier_scaling),
        ("mixed.png", plot_mixed),
    ):
        if plot(run_dir / name, results):
            made.append(name)
    return made
