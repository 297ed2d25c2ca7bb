"""The query plans of the user API at 100,000 profiles: every list, filter, search and ordering it offers
reads through an index, never with a sequential scan of the table (tests/support/plans.py)."""

from urllib.parse import quote

import pytest

from support.plans import deep_cursor, indexes_used, loaded_table, plan_problems
from svc_common.filters import IndexedOrderingFilter
from users.apis import UserViewSet
from users.filters import UserFilter
from users.models import UserProfile
from users.services import user_seed

ROWS = 100_000
TABLE = "users_userprofile"
# A value per filter of UserFilter (a new filter without one fails below), in another case than stored.
FILTERS = {"username": "USER_50000", "email": "User_50000@Example.com"}
# A last name (one user in 40), a number (a handful), a first and a last name together, an email's domain part.
SEARCHES = ["smith", "12345", "amina lee", "user_4711@"]
ORDERINGS = IndexedOrderingFilter().allowed_terms(UserViewSet)
READS = [
    "/api/users/",
    "/api/users/?page=400",
    "/api/users/50000/",
    *(f"/api/users/?{name}={quote(value)}" for name, value in FILTERS.items()),
    *(f"/api/users/?search={quote(term)}" for term in SEARCHES),
    *(f"/api/users/?ordering={term}" for term in ORDERINGS),
    "/api/users/?search=smith&ordering=-created_at",
]


@pytest.fixture(scope="module", autouse=True)
def profiles(django_db_setup, django_db_blocker):
    with loaded_table(django_db_blocker, TABLE, lambda: user_seed(count=ROWS)):
        yield


def test_the_plan_cases_cover_every_filter_search_field_and_ordering_of_the_api():
    assert set(UserFilter.base_filters) == set(FILTERS)
    assert UserViewSet.search_fields == ["username", "email", "full_name"]
    assert len(ORDERINGS) == 2 * len(UserViewSet.ordering_fields)


@pytest.mark.django_db
@pytest.mark.parametrize("url", READS)
def test_the_read_uses_an_index(api_client, url):
    assert plan_problems(api_client, url, TABLE) == []


@pytest.mark.django_db
@pytest.mark.parametrize("term", ORDERINGS)
def test_a_cursor_halfway_down_each_ordering_uses_an_index(api_client, term):
    url = "/api/users/?" + deep_cursor(UserProfile, "/api/users/", term)

    assert plan_problems(api_client, url, TABLE) == []


@pytest.mark.django_db
@pytest.mark.parametrize("field", UserViewSet.ordering_fields)
def test_each_ordering_walks_its_own_index(api_client, field):
    expected = {
        "id": "users_userprofile_pkey",
        "username": "users_userprofile_username_key",
        "email": "users_userprofile_email_key",
    }.get(field, f"userprofile_{field}_id")

    assert expected in indexes_used(api_client, f"/api/users/?ordering=-{field}", TABLE)


@pytest.mark.django_db
def test_the_filters_use_the_upper_case_indexes_and_search_the_trigram_ones(api_client):
    assert "userprofile_username_upper" in indexes_used(api_client, "/api/users/?username=USER_50000", TABLE)
    assert "userprofile_email_upper" in indexes_used(api_client, "/api/users/?email=user_50000%40example.com", TABLE)
    assert {
        "userprofile_username_upper_trgm", "userprofile_email_upper_trgm", "userprofile_full_name_upper_trgm"
    } <= indexes_used(api_client, "/api/users/?search=12345", TABLE)  # fmt: skip
