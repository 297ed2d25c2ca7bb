"""The operators' view end to end: one request id through every log, /metrics everywhere, status, Server-Timing."""

import json
import os
import re
import secrets
import signal
import threading

import httpx
import pytest

from support.metrics import gateway_total, scrape, total
from support.poll import poll

NUMBER = r"\d+\.\d"


def json_lines(stack, name: str) -> list[dict]:
    """The JSON lines of <name>.log (gunicorn's and HAProxy's own plain lines are skipped)."""
    records = []
    for line in (stack.stack_dir / "log" / f"{name}.log").read_text().splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def lines_with(stack, request_id: str) -> dict[str, list[dict]]:
    """{log name: JSON lines carrying request_id} over every log of the stack: one grep."""
    found = {}
    for path in sorted((stack.stack_dir / "log").glob("*.log")):
        if request_id in path.read_text():
            found[path.stem] = [line for line in json_lines(stack, path.stem) if line.get("request_id") == request_id]
    return found


def replicas(stack) -> dict[str, list[int]]:
    return json.loads((stack.stack_dir / "stack.json").read_text())["replicas"]


def healthy(samples: dict) -> dict | None:
    """The samples, if both dependency gauges say up."""
    return samples if total(samples, "service_dependency_up") == 2 else None


def cache_timing(response) -> str:
    """The Server-Timing cache metric's pattern: present when the page cache answered or looked (X-Cache)."""
    if "X-Cache" not in response.headers:
        return ""
    return rf"cache;(dur={NUMBER};)?desc={response.headers['X-Cache']}, "


def fresh_user_and_product(stack) -> tuple[int, int]:
    """Ids no one has read yet, so no cache can answer for them."""
    tag = secrets.token_hex(4)
    with stack.client() as gateway:
        user = gateway.post("/api/users/", json={"username": f"trace_{tag}", "email": f"trace_{tag}@example.com"})
        product = gateway.post("/api/products/", json={"name": "Traced", "sku": f"TRACE-{tag}", "price": "1.00"})
    assert (user.status_code, product.status_code) == (201, 201)
    return user.json()["id"], product.json()["id"]


def test_one_request_id_shows_the_whole_path_through_haproxy_the_gateway_and_the_replicas(stack):
    user_id, product_id = fresh_user_and_product(stack)
    request_id = f"trace-{secrets.token_hex(8)}"

    response = httpx.get(
        f"{stack.url('gateway')}/api/{user_id}/{product_id}/",
        headers={**stack.auth_headers(), "X-Request-ID": request_id},
        timeout=10,
    )

    def whole_path():
        found = lines_with(stack, request_id)
        return found if len(found.get("haproxy", [])) == 3 and len(found) == 4 else None

    found = poll(whole_path, timeout=10, what="HAProxy's three lines and one from each of three replicas")

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id
    hops = {line["frontend"]: line for line in found.pop("haproxy")}
    assert sorted(hops) == ["fe_gateway", "fe_products", "fe_users"]
    gateway, users, products = (hops[frontend]["server"] for frontend in ("fe_gateway", "fe_users", "fe_products"))
    # Exactly the replicas HAProxy sent the request to logged it, and say who they are.
    assert sorted(found) == sorted([gateway, users, products])
    [gateway_line] = found[gateway]
    [users_line] = found[users]
    [products_line] = found[products]
    assert (gateway_line["replica"], gateway_line["path"], gateway_line["route"], gateway_line["status"]) == (
        gateway,
        f"/api/{user_id}/{product_id}/",
        "user-product",
        200,
    )
    assert (users_line["replica"], users_line["path"], users_line["status"]) == (users, f"/api/users/{user_id}/", 200)
    assert (products_line["replica"], products_line["path"], products_line["status"]) == (
        products,
        f"/api/products/{product_id}/",
        200,
    )
    assert isinstance(gateway_line["client_id"], int) and users_line["client_id"] == gateway_line["client_id"]
    assert stack.auth_headers()["Authorization"].split()[1] not in json.dumps(found)
    # Timings nest: HAProxy's total ≥ the gateway's time ≥ its wait on each service ≥ that service's own time.
    assert hops["fe_gateway"]["timings_ms"]["total"] + 1 >= gateway_line["duration_ms"]
    assert gateway_line["duration_ms"] >= gateway_line["upstream_ms"]["users"] >= users_line["duration_ms"]
    assert gateway_line["upstream_ms"]["products"] >= products_line["duration_ms"]
    assert re.fullmatch(
        rf"users;dur={NUMBER}, products;dur={NUMBER}, {cache_timing(response)}total;dur={NUMBER}",
        response.headers["Server-Timing"],
    ), response.headers["Server-Timing"]
    assert f"users;dur={gateway_line['upstream_ms']['users']:.1f}" in response.headers["Server-Timing"]


def test_every_replica_and_haproxy_serve_prometheus_metrics_without_a_token_but_the_public_port_does_not(stack):
    httpx.get(f"{stack.url('gateway')}/api/1/1/", headers=stack.auth_headers(), timeout=10)

    for service, indexes in replicas(stack).items():
        for index in indexes:
            url = f"http://127.0.0.1:{stack.replica_port(service, index)}/metrics"
            # A fresh replica opens its database and Redis connections on this first scrape: allow it a moment.
            samples = poll(
                lambda url=url: healthy(scrape(url)),
                timeout=10,
                what=f"{service}-{index} to report its dependencies up",
            )
            assert total(samples, "service_dependency_up", dependency="database") == 1, f"{service}-{index}"
            assert total(samples, "service_dependency_up", dependency="cache") == 1, f"{service}-{index}"
            assert total(samples, "django_http_request_duration_seconds_count") > 0, f"{service}-{index}"
            if service == "gateway":
                assert {"gateway_upstream_request_duration_seconds_bucket", "gateway_rate_limited_total"} & {
                    name for name, _ in samples
                }
    through_haproxy = httpx.get(f"{stack.url('gateway')}/metrics", timeout=5)
    haproxy = scrape(f"{stack.url('stats')}/metrics")

    assert through_haproxy.status_code == 404  # the public entry point never exposes a replica's metrics
    assert total(haproxy, "haproxy_frontend_http_requests_total", proxy="fe_gateway") > 0
    assert total(haproxy, "haproxy_server_status", proxy="be_users", server="users-1", state="UP") == 1


def test_cache_results_and_rate_limit_rejections_add_up_over_the_gateway_replicas(stack):
    user_id, product_id = fresh_user_and_product(stack)
    limited = {"Authorization": f"Token {stack.token(f'metered-{secrets.token_hex(3)}', '--rate', '2/minute')}"}
    results = ("hit", "miss", "stale")
    before = {result: gateway_total(stack, "django_http_cache_results_total", result=result) for result in results}
    rejected_before = gateway_total(stack, "gateway_rate_limited_total", group="read")

    url = f"{stack.url('gateway')}/api/{user_id}/{product_id}/"
    cached = [httpx.get(url, headers=stack.auth_headers(), timeout=10).headers.get("X-Cache") for _ in range(2)]
    limited_responses = [httpx.get(url, headers=limited, timeout=10) for _ in range(5)]
    statuses = [response.status_code for response in limited_responses]

    if cached[0] is None:
        pytest.skip("no page cache in this gateway: nothing sets X-Cache")
    # Never read before: the first answer comes from the services (MISS, or STALE after the writes), then HIT.
    assert cached[0] in ("MISS", "STALE") and cached[1] == "HIT"
    served = statuses.count(200)
    assert served >= 1 and statuses == [200] * served + [429] * (5 - served)
    assert [response.headers.get("X-Cache") for response in limited_responses[:served]] == ["HIT"] * served
    moved = {
        result: gateway_total(stack, "django_http_cache_results_total", result=result) - before[result]
        for result in results
    }
    assert moved == {"hit": 1 + served, "miss": 0, "stale": 0, cached[0].lower(): 1}
    assert gateway_total(stack, "gateway_rate_limited_total", group="read") == rejected_before + 5 - served


def test_counters_count_every_request_whichever_gunicorn_worker_answered(stack):
    stack.manage("scale", "gateway", "3", env={"GUNICORN_WORKERS": "2"})
    try:
        port = stack.replica_port("gateway", 3)
        sent = []

        def burst():
            def one(request_id):
                httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": request_id}, timeout=5)

            ids = [f"workers-{secrets.token_hex(6)}" for _ in range(8)]
            threads = [threading.Thread(target=one, args=(request_id,)) for request_id in ids]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sent.extend(ids)
            pids = {line["pid"] for line in json_lines(stack, "gateway-3") if line.get("request_id") in set(sent)}
            return pids if len(pids) == 2 or len(sent) >= 400 else None

        pids = poll(burst, timeout=60, what="both workers of gateway-3 to answer")
        scrapes = [
            total(scrape(f"http://127.0.0.1:{port}/metrics"), "django_http_requests_total", route="healthz")
            for _ in range(6)
        ]
        files = sorted(path.name for path in (stack.stack_dir / "run" / "metrics" / "gateway-3").glob("counter_*.db"))
    finally:
        stack.manage("scale", "gateway", "2")

    assert len(pids) == 2
    assert scrapes == [len(sent)] * 6
    assert files == sorted(f"counter_{pid}.db" for pid in pids)


def test_status_shows_a_killed_replica_as_down_with_no_pid(stack):
    os.killpg(stack.pid("products-3"), signal.SIGKILL)
    try:

        def products_3():
            for line in stack.manage("status").stdout.splitlines():
                if line.startswith("products") and line.split()[1] == "products-3":
                    return line.split() if line.split()[4] == "DOWN" else None
            return None

        row = poll(products_3, timeout=15, what="status to show products-3 DOWN")
        output = stack.manage("status").stdout
    finally:
        stack.manage("scale", "products", "2")
        stack.manage("scale", "products", "3")

    header = output.splitlines()[0].split()
    assert header == ["SERVICE", "REPLICA", "PORT", "PID", "HAPROXY", "CHECK", "REQUESTS", "LAST", "ERROR"]
    assert row[:6] == ["products", "products-3", str(stack.replica_port("products", 3)), "dead", "DOWN", "L4CON"]
    others = [line.split() for line in output.splitlines()[1:] if line.startswith(("users", "products", "gateway"))]
    expected = {f"{service}-{index}": "UP" for service, indexes in replicas(stack).items() for index in indexes}
    assert {line[1]: line[4] for line in others} == {**expected, "products-3": "DOWN"}
    assert [line.split()[:2] for line in output.splitlines() if line.startswith("haproxy")] == [["haproxy", "-"]]
