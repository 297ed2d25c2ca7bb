"""The seed_users and import_users management commands (svc_common.bulk, svc_common.importing)."""

from io import StringIO

import pytest
from django_redis import get_redis_connection

from django.core.management import CommandError, call_command

from support.import_checks import disagreements, memo_disagreements
from users.demo import demo_user
from users.models import UserProfile
from users.services import USER_IMPORT

pytestmark = pytest.mark.django_db


def run_import(path, *args) -> tuple[str, str, str | None]:
    """(stdout, stderr, the CommandError's message or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_users", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def test_seed_users_twice_creates_each_demo_user_once():
    out = StringIO()
    call_command("seed_users", "--count", "3", stdout=out)
    call_command("seed_users", "--count", "3", stdout=out)

    assert UserProfile.objects.count() == 3
    assert out.getvalue().splitlines() == ["users: 3 created, 3 ensured", "users: 0 created, 3 ensured"]


def test_the_seed_sql_makes_exactly_the_rows_demo_user_describes():
    call_command("seed_users", "--count", "70", stdout=StringIO())

    rows = list(UserProfile.objects.order_by("id").values("username", "email", "full_name"))

    assert rows == [demo_user(i) for i in range(1, 71)]
    assert rows[0] == {"username": "user_1", "email": "user_1@example.com", "full_name": "Mary Smith"}


def test_the_seed_skips_a_demo_user_whose_email_is_taken_and_publishes_one_invalidation(
    make_user, django_capture_on_commit_callbacks
):
    make_user(username="someone", email="user_2@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_users", "--count", "3", stdout=StringIO())

    redis = get_redis_connection("default")
    assert sorted(UserProfile.objects.values_list("username", flat=True)) == ["someone", "user_1", "user_3"]
    assert {key.decode(): int(redis.get(key)) for key in redis.keys("inv:users:*")} == {"inv:users:*": 1}


def test_an_import_checks_rows_as_the_api_does_and_stores_emails_lower_case(tmp_path, make_user):
    make_user(username="taken", email="taken@example.com")
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,full_name\n"
        "ada,Ada@Example.COM,Ada Lovelace\n"  # 2
        "ada2,ADA@example.com,\n"  # 3: the same email once lower-cased
        "bad name,bad@example.com,\n"  # 4
        "grace,not-an-email,\n"  # 5
        "taken,fresh@example.com,\n"  # 6: username exists
        "alan,alan@example.com,Alan Turing\n"  # 7
    )

    out, err, error = run_import(path)

    assert error == "4 rows rejected; the other rows were loaded."
    assert err.splitlines() == [
        "line 3: email 'ada@example.com' repeats line 2",
        "line 4: username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_"
        " characters.",
        "line 5: email: Enter a valid email address.",
        "line 6: username or email already exists (username 'taken')",
    ]
    assert list(UserProfile.objects.exclude(username="taken").order_by("id").values_list(
        "username", "email", "full_name"
    )) == [("ada", "ada@example.com", "Ada Lovelace"), ("alan", "alan@example.com", "Alan Turing")]  # fmt: skip
    assert out.startswith("users: 6 rows read, 2 created, 4 rejected in ")


def test_an_import_reads_json_lines_from_stdin(monkeypatch, tmp_path):
    path = tmp_path / "users.jsonl"
    path.write_text('{"username": "lin", "email": "lin@example.com"}\n')
    monkeypatch.setattr("sys.stdin", path.open())

    out, _, error = run_import("-", "--format", "jsonl")

    assert error is None
    assert list(UserProfile.objects.values_list("username", flat=True)) == ["lin"]


def test_seeding_past_existing_users_leaves_no_hole_in_the_ids():
    call_command("seed_users", "--count", "3", stdout=StringIO())
    call_command("seed_users", "--count", "6", stdout=StringIO())

    ids = list(UserProfile.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + 6))


def test_the_import_checks_accept_and_refuse_exactly_what_drf_does_fast_path_and_remembered_values_alike():
    assert disagreements(USER_IMPORT) == []
    base = {"username": "ada", "email": "ada@example.com", "full_name": "Ada Lovelace"}
    for field in base:
        assert memo_disagreements(USER_IMPORT, base, field) == [], field
