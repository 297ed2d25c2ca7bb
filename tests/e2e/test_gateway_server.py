"""The gateway on gunicorn's uvicorn worker, end to end: the access step, hits and the aggregate on the event
loop, every other request on Django behind it."""

import json
import socket
import time

import httpx


def worker_lines(stack, service: str) -> set[str]:
    lines = set()
    for log in (stack.stack_dir / "log").glob(f"{service}-*.log"):
        lines |= {line.split("] ")[-1] for line in log.read_text().splitlines() if "Using worker:" in line}
    return lines


def test_the_gateway_runs_the_uvicorn_worker_and_the_services_gthread(stack):
    assert worker_lines(stack, "gateway") == {"Using worker: gateway_project.worker.GatewayWorker"}
    assert worker_lines(stack, "users") == worker_lines(stack, "products") == {"Using worker: gthread"}


def test_a_body_arriving_in_pieces_reaches_the_service_whole(stack):
    token = stack.auth_headers()["Authorization"]
    # JSON whitespace pads the body to about 40 KB, under the 64 KiB cap; the name is UTF-8 on the wire.
    document = {"username": "e2e_pieces", "email": "e2e_pieces@example.com", "full_name": "Zoë Ünal-Piece"}
    body = json.dumps(document, ensure_ascii=False).replace(", ", "," + " " * 40_000, 1).encode()
    # The last piece starts inside the two bytes of "ë".
    cut = body.index("ë".encode()) + 1
    head = (
        f"POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    # Straight to a gateway replica, so no proxy gathers the pieces before the worker reads them.
    with socket.create_connection(("127.0.0.1", stack.replica_port("gateway", 1)), timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(head)
        for piece in (body[:10_000], body[10_000:cut], body[cut:]):
            connection.sendall(piece)
            time.sleep(0.05)  # pacing, so the pieces arrive as separate reads
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    status_line, _, rest = answer.partition(b"\r\n")
    created = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert status_line == b"HTTP/1.1 201 Created"
    assert (created["username"], created["full_name"]) == ("e2e_pieces", "Zoë Ünal-Piece")


def test_an_oversized_body_gets_a_json_413_and_creates_nothing(stack):
    # A valid user but for its size: padded with JSON whitespace past the 64 KiB cap.
    document = {"username": "e2e_oversized", "email": "e2e_oversized@example.com", "full_name": "Over Sized"}
    body = json.dumps(document).replace(", ", "," + " " * 70_000, 1)

    with stack.client() as gateway:
        refused = gateway.post("/api/users/", content=body, headers={"Content-Type": "application/json"})
        found = gateway.get("/api/users/", params={"search": "e2e_oversized"})

    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "payload_too_large"
    assert found.json()["count"] == 0


def test_a_hit_and_a_miss_answer_the_same_body_and_are_each_logged_once(stack):
    with stack.client() as gateway:  # a user and a product no other test has read: neither part is cached
        user = gateway.post("/api/users/", json={"username": "e2e_logged", "email": "e2e_logged@example.com"}).json()
        product = gateway.post("/api/products/", json={"name": "Logged", "sku": "E2E-LOGGED", "price": "1.00"}).json()
    path = f"/api/{user['id']}/{product['id']}/"
    headers = {**stack.auth_headers(), "X-Request-ID": "e2e-asgi-hit-and-miss"}
    with httpx.Client(base_url=stack.url("gateway"), headers=headers, timeout=10) as gateway:
        miss = gateway.get(path)
        hit = gateway.get(path)

    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    assert hit.content == miss.content
    logged = []
    for log in (stack.stack_dir / "log").glob("gateway-*.log"):
        logged += [
            json.loads(line)["cache"]
            for line in log.read_text().splitlines()
            if line.startswith("{") and '"request_id": "e2e-asgi-hit-and-miss"' in line
        ]
    assert sorted(logged) == ["HIT", "MISS"]


def test_a_head_never_blanks_the_page_another_client_then_gets(stack):
    path = "/api/products/?page_size=7&ordering=-id"
    with httpx.Client(base_url=stack.url("gateway"), headers=stack.auth_headers("e2e-head"), timeout=10) as first:
        head = first.head(path)
    with httpx.Client(base_url=stack.url("gateway"), headers=stack.auth_headers("e2e-after-head"), timeout=10) as other:
        get = other.get(path)

    assert (head.status_code, head.content) == (200, b"")
    assert (get.status_code, get.headers["X-Cache"]) == (200, "HIT")
    assert int(get.headers["Content-Length"]) == len(get.content) == int(head.headers["Content-Length"])
    assert len(get.json()["results"]) == 7


def test_an_encoded_slash_in_a_proxied_path_is_refused_by_the_gateway_replicas(stack):
    with stack.client() as gateway:
        cached = gateway.get("/api/users/1/")
        refused = gateway.get("/api/users/1%2F")

    assert cached.status_code == 200
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unsafe_path"


def test_a_trailing_encoded_newline_is_a_404_not_the_aggregate(stack):
    with stack.client() as gateway:
        gateway.get("/api/1/1/")
        response = gateway.get("/api/1/1/%0A")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
