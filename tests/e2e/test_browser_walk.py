"""A newcomer's walk through the gateway in Chromium, a screenshot at each step (issue 18): the front door, the docs,
logging in, browsing and paging, creating with the raw-data form, the aggregate, a token used from a JSON client,
and logging out. Then Swagger UI's "Try it out", with the session and with a token.

Every request goes through HAProxy to the gateway replicas, and from them to the services.
"""

import json
import secrets

import httpx
import pytest

from browser.actions import fill, find, shown_json, shown_status, wait_for, wait_until
from browser.staff import create_person


@pytest.fixture(scope="module")
def person(stack):
    """A gateway user who is not staff, with a password (made as an operator would, with create_user)."""
    return create_person(stack, "walker")


def screenshot(page, step: int, name: str) -> None:
    assert page.screenshot(f"walk-{step}-{name}").stat().st_size > 10_000


def log_in(page, gateway: str, person: tuple[str, str], next_path: str) -> None:
    page.driver.get(f"{gateway}/api-auth/login/?next={next_path}")
    fill(page, {"id_username": person[0], "id_password": person[1]})
    find(page, "#submit-id-submit").click()
    wait_until(page, lambda driver: driver.current_url == f"{gateway}{next_path}", f"the login to reach {next_path}")


def test_a_newcomer_walks_from_the_front_door_to_a_token_and_out(stack, page, person):
    gateway = stack.url("gateway")
    json_client = stack.client()

    # 1. The front door: what the API is, and where to go.
    page.driver.get(f"{gateway}/")
    title = wait_for(page, "h1").text
    screenshot(page, 1, "front-door")
    assert title == "API gateway version 1.0.0"

    # 2. The docs: Swagger UI lists every operation of the generated contract.
    find(page, "#docs-link").click()
    wait_for(page, "#operations-aggregation-user_product_retrieve")
    operations = [e.get_attribute("id") for e in page.driver.find_elements("css selector", ".opblock")]
    screenshot(page, 2, "docs")
    assert page.driver.current_url == f"{gateway}/api/docs/"
    assert len(operations) == 15
    assert {"operations-products-products_list", "operations-auth-token_create"} <= set(operations)

    # 3. Log in, from the front door's button; the browsable API root greets the person.
    page.driver.get(f"{gateway}/")
    find(page, "#front-login").click()
    fill(page, {"id_username": person[0], "id_password": person[1]})
    find(page, "#submit-id-submit").click()
    wait_until(page, lambda driver: driver.current_url == f"{gateway}/api/", "the login to reach the API root")
    greeting = wait_for(page, "li.dropdown > a.dropdown-toggle").text
    screenshot(page, 3, "logged-in")
    assert greeting == person[0]
    assert set(shown_json(page)) == {"users", "products", "user_product", "auth_token"}

    # 4. The product list, five to a page, and its "next" link.
    page.driver.get(f"{gateway}/api/products/?page_size=5")
    first = shown_json(page)
    find(page, "a[aria-label='Next page']").click()
    wait_until(page, lambda driver: "page=2" in driver.current_url, "the second page")
    second = shown_json(page)
    screenshot(page, 4, "products-page-2")
    expected = json_client.get("/api/products/?page=2&page_size=5").json()
    assert page.driver.current_url == f"{gateway}/api/products/?page=2&page_size=5"
    assert first["previous"] is None
    assert [p["id"] for p in second["results"]] == [p["id"] for p in expected["results"]]

    # 5. A product made with the raw-data form (a session write: the page sends its CSRF token).
    sku = f"WALK-{secrets.token_hex(4).upper()}"
    content = find(page, "#post-generic-content-form textarea")
    content.clear()
    content.send_keys(json.dumps({"name": "Walk kettle", "sku": sku, "price": "19.90", "stock": 4}))
    find(page, "#post-generic-content-form button.btn-primary").click()
    wait_until(page, lambda driver: shown_status(page) == "HTTP 201 Created", "the product to be created")
    product = shown_json(page)
    screenshot(page, 5, "product-created")
    assert (product["name"], product["sku"], product["price"], product["stock"]) == ("Walk kettle", sku, "19.90", 4)

    # 6. The aggregate of user 1 and that product.
    page.driver.get(f"{gateway}/api/1/{product['id']}/")
    aggregate = shown_json(page)
    heading = find(page, "h1").text
    screenshot(page, 6, "aggregate")
    assert heading == f"User 1 and product {product['id']}"
    assert (aggregate["user"]["id"], aggregate["product"]) == (1, product)

    # 7. A token from the token page, shown once, then used by a JSON client.
    find(page, "a[href='/tokens/']").click()
    fill(page, {"id_name": "walk laptop"})
    find(page, "#create-token").click()
    key = wait_for(page, "#new-token").text
    prefixes = [
        row.get_attribute("data-token-prefix") for row in page.driver.find_elements("css selector", "#tokens tbody tr")
    ]
    screenshot(page, 7, "token-created")
    used = httpx.get(f"{gateway}/api/products/{product['id']}/", headers={"Authorization": f"Token {key}"}, timeout=10)
    assert prefixes == [key[:8]]
    assert (used.status_code, used.json()) == (200, product)

    # 8. Log out from the browsable API's menu: the product list is refused, and the session is over.
    session = page.driver.get_cookie("sessionid")["value"]
    page.driver.get(f"{gateway}/api/products/")
    find(page, "li.dropdown > a.dropdown-toggle").click()
    find(page, "a[onclick*='logoutForm']").click()
    wait_until(page, lambda driver: shown_status(page) == "HTTP 401 Unauthorized", "the refusal after logging out")
    login_link = find(page, "a[href='/api-auth/login/?next=/api/products/']").text
    screenshot(page, 8, "logged-out-refused")
    replayed = httpx.get(f"{gateway}/api/products/", cookies={"sessionid": session}, timeout=10)
    assert shown_json(page)["error"]["code"] == "not_authenticated"
    assert login_link == "Log in"
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "not_authenticated")


def try_it_out(page, operation: str, *, parameters: dict | None = None, body: dict | None = None) -> str:
    """Expand an operation in Swagger UI, fill it, execute it; the status code it shows."""
    block = f"#operations-{operation}"
    find(page, f"{block} .opblock-summary").click()
    wait_for(page, f"{block} .try-out__btn").click()
    for name, value in (parameters or {}).items():
        field = wait_for(page, f"{block} input[placeholder='{name}']")
        field.clear()
        field.send_keys(value)
    if body is not None:
        editor = wait_for(page, f"{block} textarea.body-param__text")
        editor.clear()
        editor.send_keys(json.dumps(body))
    find(page, f"{block} button.execute").click()
    status = wait_for(page, f"{block} .live-responses-table tbody tr.response .response-col_status")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", status)
    return status.text.split()[0]


def test_swagger_ui_tries_operations_out_with_the_session_and_with_a_token(stack, page):
    gateway = stack.url("gateway")
    someone = create_person(stack, "swagger")
    log_in(page, gateway, someone, "/api/docs/")
    wait_for(page, "#swagger-user")

    read = try_it_out(page, "products-products_retrieve", parameters={"id": "3"})
    sku = f"SWAGGER-{secrets.token_hex(4).upper()}"
    written = try_it_out(page, "products-products_create", body={"name": "Swagger kettle", "sku": sku, "price": "5.00"})
    screenshot(page, 9, "swagger-session")

    key = stack.token(f"swagger-token-{secrets.token_hex(3)}")
    page.driver.delete_all_cookies()
    page.driver.get(f"{gateway}/api/docs/")
    wait_for(page, "#swagger-login")
    find(page, "button.authorize").click()
    field = wait_for(page, ".auth-container input[type='text']")
    field.send_keys(f"Token {key}")
    find(page, ".auth-container button.authorize").click()
    find(page, "button.btn-done").click()
    with_token = try_it_out(page, "aggregation-user_product_retrieve", parameters={"user_id": "2", "product_id": "3"})
    screenshot(page, 10, "swagger-token")

    created = stack.client().get("/api/products/", params={"sku": sku}).json()["results"]
    assert (read, written, with_token) == ("200", "201", "200")
    assert [p["name"] for p in created] == ["Swagger kettle"]
