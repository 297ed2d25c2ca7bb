"""The benchmark harness's own checks: wrk parsing on a real floor server, the verdicts, the report (< 15 s)."""

import http.server
import json
import shutil
import threading
import time

import pytest

from bench import data, pair, report, systems, verdicts, wrk
from bench.measure import Measurement, Results
from bench.processes import Supervisor


def run(ok: int, *, statuses: dict | None = None, seconds: float = 1.0, p50: float = 1.0, p99: float = 2.0, **extra):
    """A wrk result as bench.wrk.summarize returns it."""
    statuses = statuses or {200: ok}
    requests = sum(statuses.values())
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds,
        "ok_rps": ok / seconds,
        "latency_ms": {"p50": p50, "p90": p99, "p99": p99},
        "statuses": statuses,
        "non_2xx": requests - ok,
        "socket_errors": extra.get("socket_errors", 0),
        "timeouts": extra.get("timeouts", 0),
    }


def results_with(*points: tuple[str, int, dict]) -> Results:
    results = Results()
    for system, concurrency, one_run in points:
        results.measurements.append(Measurement("test", system, concurrency, "http://x/", [one_run]))
    return results


def by_name(ratios: list[verdicts.Ratio], prefix: str) -> verdicts.Ratio:
    return next(ratio for ratio in ratios if ratio.name.startswith(prefix))


def evaluate(results: Results) -> list[verdicts.Ratio]:
    return verdicts.evaluate(results, concurrency=64, scaling_concurrency=64, overload_connections=512)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_run_against_the_floor_counts_every_response_as_200(tmp_path):
    supervisor = Supervisor(tmp_path / "logs")
    try:
        with systems.floor(supervisor) as target:
            result = wrk.run(target, 4, 1)
    finally:
        supervisor.stop_all()
    assert result["requests"] > 0
    assert result["statuses"] == {200: result["requests"]}
    assert result["non_2xx"] == 0
    assert result["socket_errors"] == 0
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]


def test_wrk_uses_one_thread_for_one_connection():
    assert "-t1" in wrk.command(wrk.Target("http://127.0.0.1:1/"), 1, 1, 10)


def test_throughput_ratio_counts_only_2xx_answers():
    results = results_with(
        ("ours-hit", 64, run(800, statuses={200: 800, 503: 5000})),
        ("floor", 64, run(1000)),
    )
    ratio = by_name(evaluate(results), "cache hit @64 vs Django floor")
    assert (ratio.value, ratio.verdict) == (0.8, "FAIL")
    assert "non-2xx in ours-hit 5000/5800" in ratio.detail


def test_the_floor_ratio_is_the_median_of_back_to_back_pairs_when_they_were_measured():
    results = results_with(("ours-hit", 64, run(900)), ("floor", 64, run(1000)))
    results.measurements += [
        Measurement("g. paired", "floor-paired", 64, "http://x/", [run(2000), run(1000), run(2000)]),
        Measurement("g. paired", "ours-hit-paired", 64, "http://x/", [run(1000), run(700), run(1200)]),
    ]

    ratio = by_name(evaluate(results), "cache hit @64 vs Django floor")

    # Pair ratios 0.5, 0.7 and 0.6: the sweeps' 0.9 (floor measured on a slower minute) does not count.
    assert (ratio.value, ratio.verdict) == (0.6, "FAIL")
    assert ratio.detail.startswith("median of 3 back-to-back pairs (2xx/s ours/floor: 1000/2000, 700/1000, 1200/2000)")


def test_the_gateways_overhead_on_a_miss_is_the_miss_p50_minus_the_two_calls_sent_together():
    results = results_with(("ours-miss", 1, run(100, p50=3.2)), ("pair-direct", 1, run(100, p50=2.6)))

    ratio = by_name(evaluate(results), "gateway overhead on a miss")

    assert (ratio.value, ratio.verdict) == (0.6, "PASS")
    assert ratio.detail == "miss p50 3.20 ms - pair-direct p50 2.60 ms"


def test_an_overhead_above_one_millisecond_fails():
    results = results_with(("ours-miss", 1, run(100, p50=4.0)), ("pair-direct", 1, run(100, p50=2.6)))

    assert by_name(evaluate(results), "gateway overhead on a miss").verdict == "FAIL"


@pytest.mark.parametrize(
    ("p50", "p99", "verdict"),
    [(2.0, 5.9, "PASS"), (2.0, 6.1, "FAIL"), (3.3, 4.0, "FAIL")],
    ids=["faster-and-tight", "tail-over-3x", "slower-than-the-seed"],
)
def test_a_miss_must_beat_the_seeds_microservices_and_keep_its_tail_within_three_medians(p50, p99, verdict):
    results = results_with(
        ("ours-miss", 1, run(100, p50=p50, p99=p99)), ("seed-microservices", 1, run(100, p50=3.28, p99=7.4))
    )

    ratio = by_name(evaluate(results), "cache miss @1")

    assert ratio.verdict == verdict
    assert ratio.detail.startswith(f"p50 {p50:.2f} ms vs seed 3.28 ms; p99 {p99:.2f} ms")


class SlowService(http.server.BaseHTTPRequestHandler):
    """Answers any GET after 50 ms, on a keep-alive connection; id 2 is not found."""

    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm the body would wait for a delayed ACK.
    disable_nagle_algorithm = True

    def do_GET(self):
        time.sleep(0.05)
        body = b'{"ok": true}'
        self.send_response(404 if self.path.endswith("/2/") else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_pair_sends_the_two_calls_of_an_aggregate_together_and_counts_a_pair_ok_only_if_both_are():
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowService) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        users, products = (
            wrk.Target(f"http://127.0.0.1:{server.server_port}/", {"X-Test": "1"}, f"/api/{name}/%d/", 3)
            for server, name in zip(servers, ("users", "products"), strict=True)
        )
        result = pair.run(users, products, 0.6)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()

    # One after the other, a pair would take 100 ms; together, one 50 ms wait.
    assert 50 <= result["latency_ms"]["p50"] < 90
    # Ids rotate 2, 3, 1, ...: one pair in three asks for id 2, which both answer 404.
    assert result["statuses"] == {200: result["requests"] - result["non_2xx"], 404: result["non_2xx"]}
    assert result["non_2xx"] == len(range(1, result["requests"] + 1, 3))


def test_overload_fails_on_a_socket_error_or_an_unexpected_status():
    results = results_with(
        ("overload-hit", 512, run(900, statuses={200: 900, 503: 100, 429: 3}, p99=1500.0)),
        ("overload-miss", 512, run(900, statuses={200: 900, 502: 1}, p99=1500.0, socket_errors=2)),
    )
    ratios = evaluate(results)
    assert by_name(ratios, "overload @512 (cache hit)").verdict == "PASS"
    assert by_name(ratios, "overload @512 (cache miss)").verdict == "FAIL"


def test_missing_measurements_are_not_applicable_not_failures():
    assert {ratio.verdict for ratio in evaluate(Results())} == {"n/a"}


def test_report_writes_json_markdown_plots_and_latest(tmp_path):
    results = results_with(
        ("floor", 1, run(500)),
        ("floor", 64, run(2000)),
        ("scaling-1x", 64, run(500)),
        ("scaling-4x", 64, run(1900)),
    )
    ratios = evaluate(results)
    header = {
        "run_id": "test",
        "quick": True,
        "plan": {"duration": 1, "repeats": 1, "warmup": 1, "concurrencies": [1, 64]},
        "machine": {"cores": 2, "kernel": "k", "load_before": "0", "wrk": "wrk", "haproxy": "haproxy"},
        "auth": "off",
        "cpu_caps": "none",
    }
    path = report.write(tmp_path / "run", results, ratios, header)
    assert "| scaling: 4 replicas vs 1 | 3.80 | >= 3.4x | **PASS** |" in path.read_text()
    written = json.loads((tmp_path / "run" / "results.json").read_text())["ratios"]
    assert next(r for r in written if r["name"] == "scaling: 4 replicas vs 1")["verdict"] == "PASS"
    assert {p.name for p in (tmp_path / "run").glob("*.png")} == {"throughput.png", "latency.png", "scaling.png"}
    assert (tmp_path / "latest").resolve() == (tmp_path / "run").resolve()


def test_the_import_summary_is_read_from_the_commands_output():
    summary = data.import_summary(
        "products: 20,000 rows read, 19,990 created, 10 rejected in 0.8 s (25,000 rows/s, rebuild)\n"
    )

    assert summary == {
        "rows": 20_000,
        "created": 19_990,
        "rejected": 10,
        "seconds": 0.8,
        "rows_per_s": 25_000,
        "mode": "rebuild",
    }


def data_results() -> Results:
    results = Results()
    results.facts["data"] = {
        "seed_products": {"rows": 1_000_000, "seconds": 41.5, "rows_per_s": 24_096},
        "seed_users": {"rows": 10_000, "seconds": 2.0, "rows_per_s": 5_000},
        "import_fresh": {"rows": 200_000, "created": 200_000, "rejected": 0, "seconds": 8.0, "rows_per_s": 25_000,
                         "mode": "rebuild"},
        "import_live": {"rows": 200_000, "created": 200_000, "rejected": 0, "seconds": 13.3, "rows_per_s": 15_000,
                        "mode": "incremental"},
    }  # fmt: skip
    return results


def test_seeds_are_judged_at_their_target_size_only_and_imports_by_their_rate():
    ratios = evaluate(data_results())

    assert (by_name(ratios, "seed_products").value, by_name(ratios, "seed_products").verdict) == (41.5, "PASS")
    assert by_name(ratios, "seed_users").verdict == "n/a"
    assert by_name(ratios, "seed_users").detail == "not at size: 10,000 rows in 2.0 s (5,000 rows/s)"
    assert by_name(ratios, "import_products rows/s (into an empty table)").verdict == "PASS"
    assert by_name(ratios, "import_products rows/s (into the seeded catalogue)").verdict == "FAIL"


def test_the_report_has_a_row_per_data_command():
    lines = report.data_lines(data_results())

    assert lines[2] == "| seed_products --count N (generate_series) | 1,000,000 | 1,000,000 | 41.5 | 24,096 | - |"
    assert (
        lines[5]
        == "| import_products FILE.csv into the seeded catalogue | 200,000 | 200,000 | 13.3 | 15,000 | incremental |"
    )
