"""What a person does in a browser: the admins, the browsable APIs, token revocation and the status page.

Headless Chromium from Debian (apt-get install chromium chromium-driver) against the e2e stack.
Screenshots go to $ARTIFACTS_DIR or var/screenshots/. Without Chromium the tests skip, except in CI.
"""

import json
import re
import secrets

import httpx
import pytest

from browser.actions import fill, find, shown_json, wait_for
from browser.staff import create_superuser


@pytest.fixture(scope="module")
def staff(stack):
    """One superuser per project, made with each project's createsuperuser and the stack's environment."""
    return {service: create_superuser(stack, service) for service in ("users", "products", "gateway")}


def admin_login(browser, base_url: str, credentials: tuple[str, str]) -> None:
    browser.driver.get(f"{base_url}/admin/login/?next=/admin/")
    fill(browser, {"id_username": credentials[0], "id_password": credentials[1]})
    find(browser, "input[type=submit]").click()
    wait_for(browser, "#user-tools")


def api_login(browser, base_url: str, credentials: tuple[str, str], next_path: str) -> None:
    browser.driver.get(f"{base_url}/api-auth/login/?next={next_path}")
    fill(browser, {"id_username": credentials[0], "id_password": credentials[1]})
    find(browser, "#submit-id-submit").click()
    wait_for(browser, ".response-info")


def test_a_product_created_and_edited_in_the_admin_is_served_by_the_gateway(stack, page, staff):
    sku = f"BROWSER-{secrets.token_hex(4).upper()}"
    products = stack.url("products")
    admin_login(page, products, staff["products"])

    page.driver.get(f"{products}/admin/products/product/add/")
    fill(page, {"id_name": "Browser lamp", "id_sku": sku, "id_price": "12.50", "id_stock": "3"})
    page.screenshot("products-admin-add")
    find(page, "input[name=_save]").click()
    added = wait_for(page, "ul.messagelist li.success").text
    page.driver.get(f"{products}/admin/products/product/?q={sku}")
    find(page, "#result_list tbody tr th a").click()
    wait_for(page, "#id_name")
    product_id = int(re.search(r"/product/(\d+)/change/", page.driver.current_url).group(1))
    fill(page, {"id_name": "Browser lamp, edited", "id_price": "14.75"})
    find(page, "input[name=_save]").click()
    changed = wait_for(page, "ul.messagelist li.success").text
    page.screenshot("products-admin-changed")

    response = httpx.get(f"{stack.url('gateway')}/api/1/{product_id}/", headers=stack.auth_headers(), timeout=10)

    assert added == f"The product “Browser lamp ({sku})” was added successfully."
    assert changed == f"The product “Browser lamp, edited ({sku})” was changed successfully."
    assert response.status_code == 200
    product = response.json()["product"]
    assert (product["id"], product["name"], product["sku"], product["price"], product["stock"]) == (
        product_id,
        "Browser lamp, edited",
        sku,
        "14.75",
        3,
    )


@pytest.mark.parametrize("service", ["gateway", "users", "products"])
def test_each_admin_is_styled_by_its_own_static_files_through_haproxy(stack, page, service):
    page.driver.get(f"{stack.url(service)}/admin/login/")
    wait_for(page, "#header")

    header = page.driver.execute_script("return getComputedStyle(document.querySelector('#header')).backgroundColor")
    stylesheet = httpx.get(f"{stack.url(service)}/static/admin/css/base.css", timeout=10)

    # Django admin's --header-bg; an unstyled page has a transparent header.
    assert header == "rgb(65, 118, 144)"
    assert (stylesheet.status_code, stylesheet.headers["Content-Type"]) == (200, 'text/css; charset="utf-8"')


@pytest.mark.parametrize("service", ["users", "products"])
def test_staff_page_through_the_browsable_api_of_each_service(stack, page, staff, service):
    base_url = stack.url(service)
    api_login(page, base_url, staff[service], f"/api/{service}/%3Fpage_size%3D5")
    first = shown_json(page)

    find(page, "a[aria-label=Next]").click()
    wait_for(page, ".response-info")
    find(page, "a[aria-label=Next]").click()
    wait_for(page, ".response-info")
    third = shown_json(page)
    page.screenshot(f"{service}-browsable-api-page-3")

    expected = httpx.get(f"{base_url}/api/{service}/?page_size=5&page=3", headers=stack.service_headers()).json()
    assert page.driver.current_url.endswith(f"/api/{service}/?page=3&page_size=5")
    assert first["previous"] is None
    assert [item["id"] for item in third["results"]] == [item["id"] for item in expected["results"]]
    assert len(third["results"]) == 5
    assert third["count"] == expected["count"]


def test_a_token_revoked_in_the_gateway_admin_is_refused_with_401(stack, page, staff):
    key = stack.token(f"browser-revoke-{secrets.token_hex(3)}")
    gateway = stack.url("gateway")
    headers = {"Authorization": f"Token {key}"}
    before = httpx.get(f"{gateway}/api/2/2/", headers=headers, timeout=10)
    admin_login(page, gateway, staff["gateway"])

    page.driver.get(f"{gateway}/admin/clients/apitoken/?q={key[:8]}")
    rows = page.driver.find_elements("css selector", "#result_list tbody tr")
    find(page, "#result_list tbody tr input.action-select").click()
    find(page, "select[name=action] option[value=revoke]").click()
    find(page, "button[name=index]").click()
    message = wait_for(page, "ul.messagelist li.success").text
    page.screenshot("gateway-admin-token-revoked")

    after = httpx.get(f"{gateway}/api/2/2/", headers=headers, timeout=10)
    assert before.status_code == 200
    assert len(rows) == 1
    assert message == "Revoked 1 token(s)."
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "authentication_failed"


def test_the_status_page_shows_every_replica_up_to_staff_and_refreshes_itself(stack, page, staff):
    gateway = stack.url("gateway")
    page.driver.get(f"{gateway}/status/")
    redirected_to = page.driver.current_url
    admin_login(page, gateway, staff["gateway"])

    page.driver.get(f"{gateway}/status/")
    wait_for(page, "#replicas")
    rows = page.driver.find_elements("css selector", "#replicas tbody tr")
    states = {row.get_attribute("data-replica"): row.get_attribute("data-state") for row in rows}
    refresh = find(page, "meta[http-equiv=refresh]").get_attribute("content")
    page.screenshot("gateway-status-page")

    replicas = json.loads((stack.stack_dir / "stack.json").read_text())["replicas"]
    expected = {f"{service}-{index}": "UP" for service, indexes in replicas.items() for index in indexes}
    assert redirected_to == f"{gateway}/admin/login/?next=/status/"
    assert states == expected
    assert refresh == "5"
