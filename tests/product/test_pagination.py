"""Lists that stay fast as the table grows (svc_common.pagination and svc_common.filters, through the product API):
page numbers near the top, cursors at any depth, counts that never read a large table, indexed orderings only."""

import base64
import json
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def analyze():
    """Fresh planner statistics, as autovacuum (or the import commands) would leave them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")


def counted(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def cursor_token(*position: str) -> str:
    return quote(base64.b64encode(urlencode({"p": json.dumps(list(position))}).encode()).decode())


def walk(api_client, url: str, link: str = "next") -> list[list[int]]:
    """The ids of every page, following `link` from url until it is null."""
    pages = []
    while url:
        body = api_client.get(url).json()
        pages.append([product["id"] for product in body["results"]])
        url = body[link]
    return pages


def test_a_small_list_is_counted_exactly(api_client, make_product):
    for _ in range(3):
        make_product()

    body = api_client.get("/api/products/?page_size=2").json()

    assert (body["count"], body["count_estimated"]) == (3, False)


def test_a_list_larger_than_the_exact_limit_reports_postgresqls_estimate_without_counting(
    api_client, make_product, settings
):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    for _ in range(8):
        make_product()
    analyze()

    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/products/?page_size=2").json()

    assert (body["count"], body["count_estimated"]) == (8, True)
    assert counted(queries) == []


def test_a_filtered_list_counts_at_most_one_row_past_the_limit_then_estimates(api_client, make_product, settings):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    for n in range(9):
        make_product(name=f"Desk lamp {n}")
    make_product(name="Chair")
    analyze()

    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/products/?search=lamp&page_size=2").json()

    # The planner's estimate when it is past the limit; otherwise what was counted before stopping, 6.
    assert body["count_estimated"] is True
    assert body["count"] >= 6
    assert all("LIMIT 6" in sql for sql in counted(queries))


def test_the_last_page_gives_an_exact_count_without_counting(api_client, make_product, settings):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    for _ in range(8):
        make_product()
    analyze()

    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/products/?page_size=3&page=3").json()

    assert (body["count"], body["count_estimated"], len(body["results"]), body["next"]) == (8, False, 2, None)
    assert counted(queries) == []


def test_a_page_past_the_rows_page_numbers_reach_is_a_400_pointing_at_cursors(api_client, make_product, settings):
    settings.PAGINATION_MAX_OFFSET = 4
    for _ in range(7):
        make_product()

    response = api_client.get("/api/products/?page_size=2&page=3")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "page_too_deep",
            "message": "Page numbers reach the first 4 rows; follow the `next` link of the last page they reach"
            " (a cursor), or start with `?cursor=`, to read further.",
            "detail": None,
        }
    }


def test_the_last_page_number_links_on_with_a_cursor_so_following_next_reads_everything(
    api_client, make_product, settings
):
    settings.PAGINATION_MAX_OFFSET = 4
    ids = [make_product().pk for _ in range(7)]

    second = api_client.get("/api/products/?page_size=2&page=2").json()
    query = parse_qs(urlsplit(second["next"]).query)

    assert set(query) == {"cursor", "page_size"}
    assert walk(api_client, "/api/products/?page_size=2") == [ids[0:2], ids[2:4], ids[4:6], ids[6:7]]


def test_a_cursor_walks_every_row_once_in_order_with_ties_broken_by_id_both_ways(api_client, make_product):
    prices = ["3.00", "1.00", "2.00", "2.00", "2.00", "1.00", "3.00"]
    products = [make_product(price=Decimal(price)) for price in prices]
    expected = [p.pk for p in sorted(products, key=lambda p: (p.price, p.pk), reverse=True)]

    forward = walk(api_client, "/api/products/?ordering=-price&page_size=2&cursor=")
    last = api_client.get("/api/products/?ordering=-price&page_size=2&cursor=").json()
    while last["next"]:
        last = api_client.get(last["next"]).json()
    backward = walk(api_client, last["previous"], link="previous")

    assert [pk for page in forward for pk in page] == expected
    assert forward == [expected[0:2], expected[2:4], expected[4:6], expected[6:7]]
    assert backward == [expected[4:6], expected[2:4], expected[0:2]]


def test_a_cursor_page_has_links_and_rows_but_no_count(api_client, make_product):
    make_product()

    body = api_client.get("/api/products/?cursor=").json()

    assert set(body) == {"next", "previous", "results"}
    assert (body["next"], body["previous"], len(body["results"])) == (None, None, 1)


def test_a_hand_made_cursor_starts_after_its_position(api_client, make_product):
    ids = [make_product().pk for _ in range(4)]

    body = api_client.get(f"/api/products/?cursor={cursor_token(str(ids[1]))}").json()

    assert [product["id"] for product in body["results"]] == ids[2:]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        base64.b64encode(b"p=not-json").decode(),
        cursor_token("1", "2"),  # two values for an ordering by id alone
        cursor_token("one"),
        cursor_token("99999999999999999999"),  # beyond a bigint
        quote(base64.b64encode(urlencode({"p": json.dumps([1])}).encode()).decode()),  # not text
    ],
)
def test_a_cursor_that_is_not_one_of_ours_is_a_json_404(api_client, make_product, cursor):
    make_product()

    response = api_client.get(f"/api/products/?cursor={cursor}")

    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "Invalid cursor", "detail": None}


def test_a_cursor_value_the_ordering_field_cannot_hold_is_a_404_not_a_500(api_client, make_product):
    make_product()

    response = api_client.get(f"/api/products/?ordering=price&cursor={cursor_token('1e999', '1')}")

    assert response.status_code == 404


@pytest.mark.parametrize("ordering", ["description", "price,id", "-", "sku"])
def test_ordering_by_anything_but_one_indexed_field_is_a_400_listing_the_choices(api_client, ordering):
    response = api_client.get(f"/api/products/?ordering={ordering}")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {
        "ordering": [
            "Order by one of: id, -id, name, -name, price, -price, stock, -stock, created_at, -created_at,"
            " updated_at, -updated_at."
        ]
    }


def test_each_ordering_breaks_ties_by_id_in_its_own_direction(api_client, make_product):
    ids = [make_product(stock=5).pk for _ in range(3)]

    ascending = api_client.get("/api/products/?ordering=stock").json()["results"]
    descending = api_client.get("/api/products/?ordering=-stock").json()["results"]

    assert [p["id"] for p in ascending] == ids
    assert [p["id"] for p in descending] == ids[::-1]


@pytest.mark.parametrize("search", ["la", "a b c", "l-a-m", "__x", '"ab"'])
def test_a_search_term_without_three_letters_or_digits_in_a_row_is_a_400(api_client, search):
    response = api_client.get(f"/api/products/?search={quote(search)}")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"search": ["Each search term needs 3 letters or digits in a row."]}


def test_a_search_matches_every_term_in_any_case(api_client, make_product):
    make_product(name="Brass DESK lamp")
    make_product(name="Desk chair")
    make_product(name="Floor lamp")

    body = api_client.get("/api/products/?search=lamp%20desk").json()

    assert [p["name"] for p in body["results"]] == ["Brass DESK lamp"]


def test_the_admin_change_list_of_a_large_table_runs_no_count(client, make_product, settings, admin_user):
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    for _ in range(8):
        make_product()
    analyze()
    client.force_login(admin_user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/products/product/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 8
    assert [sql for sql in counted(queries) if "products_product" in sql] == []
