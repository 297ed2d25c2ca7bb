"""The benchmark harness's own checks: wrk parsing on a real floor server, the verdicts, the report (< 15 s)."""

import http.server
import json
import shutil
import threading
import time

import pytest

from bench import data, pair, report, scale, stale, systems, verdicts, wrk
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


def test_the_overhead_is_the_median_of_back_to_back_pairs_differences_when_they_were_measured():
    results = results_with(("ours-miss", 1, run(100, p50=3.2)), ("pair-direct", 1, run(100, p50=1.2)))
    results.measurements += [
        Measurement(
            "m. paired miss", "ours-miss-paired", 1, "http://x/", [run(100, p50=p50) for p50 in (3.0, 2.5, 4.1)]
        ),
        Measurement(
            "m. paired miss", "pair-direct-paired", 1, "http://x/", [run(100, p50=p50) for p50 in (2.2, 1.5, 2.9)]
        ),
    ]

    ratio = by_name(evaluate(results), "gateway overhead on a miss")

    # Pair differences 0.8, 1.0 and 1.2: the sweeps' 2.0 (pair-direct measured on a faster minute) does not count.
    assert (ratio.value, ratio.verdict) == (1.0, "PASS")
    assert ratio.detail == "median of 3 back-to-back pairs (p50 ms miss/pair-direct: 3.00/2.20, 2.50/1.50, 4.10/2.90)"


def test_the_miss_against_the_monolith_is_the_median_of_back_to_back_pairs_when_they_were_measured():
    results = results_with(("ours-miss", 64, run(500)), ("django-monolith", 64, run(1000)))
    results.measurements += [
        Measurement("m. paired miss", "ours-miss-paired", 64, "http://x/", [run(600), run(800), run(700)]),
        Measurement("m. paired miss", "django-monolith-paired", 64, "http://x/", [run(1000), run(1000), run(800)]),
    ]

    ratio = by_name(evaluate(results), "cache miss @64 vs Django monolith")

    # Pair ratios 0.6, 0.8 and 0.875: the sweeps' 0.5 does not count.
    assert (ratio.value, ratio.verdict) == (0.8, "PASS")
    assert ratio.detail.startswith("median of 3 back-to-back pairs (2xx/s ours/django-monolith: 600/1000, 800/1000")


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


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request (method, path, the headers the harness sets, body) and answers 200 JSON, with an
    X-Cache header on GETs; a PATCH's answer echoes the stock it was sent."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    seen: list = []
    lock = threading.Lock()

    def _answer(self, body: bytes, cache: str | None = None):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if cache:
            self.send_header("X-Cache", cache)
        self.end_headers()
        self.wfile.write(body)

    def _record(self, body: bytes = b""):
        wanted = ("Authorization", "Content-Type", "Idempotency-Key")
        with self.lock:
            self.seen.append((self.command, self.path, {h: self.headers.get(h) for h in wanted}, body))

    def do_GET(self):
        self._record()
        self._answer(b'{"ok": true}', "HIT" if len(self.seen) % 2 else "MISS")

    def do_PATCH(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._record(body)
        self._answer(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """wrk resets its connections when it stops: not an error worth a traceback."""

    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = QuietServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_reads_a_requests_file_and_keeps_the_command_lines_headers_on_writes(recorder, tmp_path):
    requests = tmp_path / "requests.tsv"
    requests.write_text('GET\t/api/products/1/\nGET\t/api/products/2/\nPATCH\t/api/products/3/\t{"stock": 7}\n')
    target = wrk.Target(f"{recorder}/", {"Authorization": "Token t"}, script_env={"BENCH_REQUESTS_FILE": requests})

    result = wrk.run(target, 2, 1)

    methods = [method for method, *_ in Recorder.seen]
    writes = [(path, headers, body) for method, path, headers, body in Recorder.seen if method == "PATCH"]
    assert set(methods) == {"GET", "PATCH"}
    assert 0.2 < methods.count("PATCH") / len(methods) < 0.46
    assert {headers["Authorization"] for _, _, headers, _ in Recorder.seen} == {"Token t"}
    assert {(path, headers["Content-Type"], body) for path, headers, body in writes} == {
        ("/api/products/3/", "application/json", b'{"stock": 7}')
    }
    assert len({headers["Idempotency-Key"] for _, headers, _ in writes}) == len(writes)
    # wrk stops with a request or two in flight: answered to the server, never counted by wrk.
    assert 0 <= methods.count("GET") - sum(result["cache"].values()) <= 2


def zipf_share(rank: int, n: int, s: float) -> float:
    return rank**-s / sum(k**-s for k in range(1, n + 1))


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_zipf_mix_reads_writes_and_lists_in_its_shares_and_never_writes_the_probes(recorder):
    users, products, probes = 100, 1000, 4
    env = {"BENCH_MIX": "zipf", "BENCH_USERS": users, "BENCH_PRODUCTS": products, "BENCH_ZIPF_S": 1.1,
           "BENCH_PROBES": probes, "BENCH_READ_SHARE": 0.9, "BENCH_LIST_SHARE": 0.05, "BENCH_SEARCH_TERMS": "lamp"}  # fmt: skip

    wrk.run(wrk.Target(f"{recorder}/", script_env=env), 4, 2)

    seen = Recorder.seen
    aggregates = [path for method, path, *_ in seen if method == "GET" and path.count("/") == 4]
    lists = [path for method, path, *_ in seen if path.startswith("/api/products/?")]
    writes = [path for method, path, *_ in seen if method == "PATCH"]
    assert len(seen) > 1000
    assert abs(len(aggregates) / len(seen) - 0.90) < 0.03
    assert abs(len(lists) / len(seen) - 0.05) < 0.02
    assert abs(len(writes) / len(seen) - 0.05) < 0.02
    hottest = [(rank * scale.SPREAD) % products + 1 for rank in range(probes)]
    assert not {int(path.split("/")[3]) for path in writes} & set(hottest)
    top = sum(1 for path in aggregates if int(path.split("/")[3]) == hottest[0]) / len(aggregates)
    assert abs(top - zipf_share(1, products, 1.1)) < 0.03
    assert all(1 <= int(path.split("/")[2]) <= users for path in aggregates)


class StaleService(http.server.BaseHTTPRequestHandler):
    """A product service whose every other read answers the stock before the last write (a stale cache)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    stock: dict = {}
    reads = 0

    def _json(self, payload: dict):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PATCH(self):
        product = int(self.path.split("/")[3])
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.stock[product] = (self.stock.get(product, (0, 0))[1], body["stock"])
        self._json({"stock": body["stock"]})

    def do_GET(self):
        product = int(self.path.split("/")[3])
        StaleService.reads += 1
        before, now = self.stock[product]
        self._json({"user": {}, "product": {"stock": before if StaleService.reads % 2 else now}})

    def log_message(self, *args):
        pass


def test_the_sampler_counts_a_read_older_than_the_acknowledged_write_as_stale():
    StaleService.stock, StaleService.reads = {}, 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StaleService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with stale.Sampler(f"http://127.0.0.1:{server.server_port}", {}, [5, 6], [1], pause=0) as sampler:
            deadline = time.monotonic() + 10
            while sampler.counts["samples"] < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        server.shutdown()
        server.server_close()
    summary = sampler.summary()

    assert summary["samples"] >= 20
    assert summary["stale"] in (summary["samples"] // 2, (summary["samples"] + 1) // 2)
    # Product 5's first read answers the stock before any write, its next stale one the first value written.
    first, second = summary["examples"][:2]
    assert (first["product"], first["read"], second["product"], second["read"]) == (5, 0, 5, first["written"])


def scale_results(catalogue: dict) -> Results:
    results = results_with(
        ("read-search-products", 16, run(800, p50=12.0, p99=80.0)),
        ("read-deep-cursor", 16, run(900, p50=25.0, p99=60.0)),
        ("tier-1x", 64, {**run(100), "tier_cpu_cores": {"products": 0.25, "gateway": 0.3, "users": 0.01}}),
        ("tier-4x", 64, {**run(350), "tier_cpu_cores": {"products": 1.0, "gateway": 0.9, "users": 0.01}}),
        ("mixed-ours", 64, {**run(1200, p99=90.0), "cache": {"HIT": 60, "MISS": 40},
                            "stale": {"samples": 300, "stale": 0}}),
        ("mixed-monolith", 64, {**run(1000, p99=120.0), "cache": {"HIT": 50, "MISS": 50},
                                "stale": {"samples": 280, "stale": 2}}),
    )  # fmt: skip
    results.facts["catalogue"] = catalogue
    return results


def test_scale_reads_are_judged_at_the_full_catalogue_only():
    full = evaluate(scale_results({"products": 1_000_000, "users": 200_000}))
    quick = evaluate(scale_results({"products": 50_000, "users": 10_000}))

    assert by_name(full, "scale-reads search-products @16").verdict == "PASS"
    assert by_name(full, "scale-reads deep-cursor @16").verdict == "FAIL"
    assert {by_name(quick, f"scale-reads {read} @16").verdict for read in ("search-products", "deep-cursor")} == {"n/a"}


def test_tier_scaling_and_mixed_verdicts_name_the_cpu_the_hit_ratios_and_the_stale_reads():
    ratios = evaluate(scale_results({"products": 1_000_000, "users": 200_000}))

    tier = by_name(ratios, "tier-scaling: 4 products replicas vs 1")
    assert (tier.value, tier.verdict) == (3.5, "PASS")
    assert tier.detail.endswith("products 0.25 vs 1.00, gateway 0.30 vs 0.90, users 0.01 vs 0.01")
    assert (by_name(ratios, "mixed @64: ours vs cached monolith").value, by_name(ratios, "mixed @64: p99").verdict) == (
        1.2,
        "PASS",
    )
    ours, monolith = by_name(ratios, "mixed: stale reads (ours)"), by_name(ratios, "mixed: stale reads (cached")
    assert (ours.verdict, ours.detail) == ("PASS", "0 of 300 sampled reads; cache hit ratio 60.0%")
    assert (monolith.verdict, monolith.detail) == ("FAIL", "2 of 280 sampled reads; cache hit ratio 50.0%")


def test_the_mixed_ratios_are_the_medians_of_the_pairs_that_took_turns():
    results = Results()
    ours = [run(400, p99=330.0), run(420, p99=650.0), run(380, p99=335.0)]
    monolith = [run(380, p99=1320.0), run(455, p99=440.0), run(475, p99=720.0)]
    for system, runs in (("mixed-ours", ours), ("mixed-monolith", monolith)):
        results.measurements.append(Measurement("l. mixed", system, 64, "http://x/", runs))

    ratios = evaluate(results)

    # Pair ratios 1.05, 0.92 and 0.80 (throughput), 0.25, 1.48 and 0.47 (p99); the median runs (420/455 2xx/s,
    # p99 650/440 ms) would read 0.92 and 1.48.
    throughput, tail = by_name(ratios, "mixed @64: ours vs cached monolith"), by_name(ratios, "mixed @64: p99")
    assert (throughput.value, throughput.verdict) == (0.92, "FAIL")
    assert throughput.detail == "median of 3 pairs taking turns (2xx/s ours/monolith: 400/380, 420/455, 380/475)"
    assert (tail.value, tail.verdict) == (0.47, "PASS")
    assert tail.detail == "median of 3 pairs (p99 ms ours/monolith: 330/1320, 650/440, 335/720)"


def test_the_report_has_the_scale_tables_and_plots(tmp_path):
    results = scale_results({"products": 1_000_000, "users": 200_000})
    header = {
        "run_id": "test",
        "quick": False,
        "plan": {"duration": 1, "repeats": 1, "warmup": 1, "concurrencies": [16, 64]},
        "machine": {"cores": 2, "kernel": "k", "load_before": "0", "wrk": "wrk", "haproxy": "haproxy"},
        "auth": "on",
        "cpu_caps": "none",
    }

    text = report.write(tmp_path / "run", results, evaluate(results), header).read_text()

    assert "| search-products | 16 | 800 | 12.00 | 80.00 | 0 |" in text
    assert "| 4 | 350 | 1.00 | 2.00 | 1.0 | 0.9 | 0.01 |" in text
    assert "| ours, mixed workload (page cache on) | 64 | 1200 | 1.00 | 90.00 | 60.0% | 0 / 300 | 0 |" in text
    assert {p.name for p in (tmp_path / "run").glob("*.png")} >= {"scale_reads.png", "tier_scaling.png", "mixed.png"}
