"""The seed_products and import_products management commands (svc_common.bulk, svc_common.importing)."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django_redis import get_redis_connection

from django.core.management import CommandError, call_command
from django.db import connection

from products.demo import demo_product
from products.models import Product
from products.services import PRODUCT_IMPORT
from support.import_checks import disagreements, memo_disagreements
from svc_common.importing import RowChecker, import_file

pytestmark = pytest.mark.django_db

FIELDS = ["name", "description", "sku", "price", "stock"]


def counters() -> dict[str, int]:
    redis = get_redis_connection("default")
    return {key.decode(): int(redis.get(key)) for key in redis.keys("inv:products:*")}


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'products_product'")
        return {name for (name,) in cursor.fetchall()}


def run_import(path, *args) -> tuple[str, str, str | None]:
    """(stdout, stderr, the CommandError's message or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_products", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def test_seed_products_twice_creates_each_demo_product_once():
    out = StringIO()
    call_command("seed_products", "--count", "3", stdout=out)
    call_command("seed_products", "--count", "3", stdout=out)

    assert Product.objects.count() == 3
    assert out.getvalue().splitlines() == ["products: 3 created, 3 ensured", "products: 0 created, 3 ensured"]


def test_the_seed_sql_makes_exactly_the_rows_demo_product_describes():
    call_command("seed_products", "--count", "60", stdout=StringIO())

    rows = list(Product.objects.order_by("id").values(*FIELDS))

    assert rows == [demo_product(i) for i in range(1, 61)]
    assert rows[1] == {
        "name": "Green Lamp 2",
        "description": "Demo product number 2.",
        "sku": "SKU-000002",
        "price": Decimal("159.38"),
        "stock": 74,
    }


def test_the_seed_adds_only_missing_rows_and_keeps_edited_ones():
    call_command("seed_products", "--count", "2", stdout=StringIO())
    Product.objects.filter(sku="SKU-000002").update(name="Renamed")

    call_command("seed_products", "--count", "4", stdout=StringIO())

    assert list(Product.objects.order_by("id").values_list("sku", "name")) == [
        ("SKU-000001", "Blue Lamp 1"),
        ("SKU-000002", "Renamed"),
        ("SKU-000003", demo_product(3)["name"]),
        ("SKU-000004", demo_product(4)["name"]),
    ]


def test_the_seed_publishes_one_collection_wide_invalidation(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_products", "--count", "5", stdout=StringIO())

    assert counters() == {"inv:products:*": 1}


def test_a_csv_import_keeps_good_rows_and_reports_bad_ones_by_line(tmp_path, make_product):
    make_product(sku="TAKEN-1")
    path = tmp_path / "products.csv"
    path.write_text(
        "name,sku,price,description,stock\n"
        "Desk lamp,LAMP-1,12.50,Brass,3\n"  # line 2
        "Chair,CHAIR-1,-1,,\n"  # 3: negative price
        ',NONAME-1,1.00,"A description\n'  # 4: blank name, a record over two lines
        'on two lines",1\n'
        "Stool,STOOL-1,5,,\n"  # 6: no description, no stock: the defaults
        "Again,LAMP-1,1.00,,\n"  # 7: repeats line 2
        "Old,TAKEN-1,1.00,,\n"  # 8: exists already
        "Short,SHORT-1\n"  # 9: too few values
        "Big,BIG-1,1.00,,many\n"  # 10: stock not a number
    )

    out, err, error = run_import(path)

    assert error == "6 rows rejected; the other rows were loaded."
    assert err.splitlines() == [
        "line 3: price: Ensure this value is greater than or equal to 0.",
        "line 4: name: This field may not be blank.",
        "line 7: sku 'LAMP-1' repeats line 2",
        "line 8: sku already exists (sku 'TAKEN-1')",
        "line 9: 2 values for 5 columns",
        "line 10: stock: A valid integer is required.",
    ]
    assert out.startswith("products: 8 rows read, 2 created, 6 rejected in ")
    loaded = Product.objects.exclude(sku="TAKEN-1").order_by("id")
    assert list(loaded.values_list("sku", "name", "description", "price", "stock")) == [
        ("LAMP-1", "Desk lamp", "Brass", Decimal("12.50"), 3),
        ("STOOL-1", "Stool", "", Decimal("5.00"), 0),
    ]


def test_a_json_lines_import_reports_unparsable_lines_and_unknown_fields(tmp_path):
    path = tmp_path / "products.jsonl"
    lines = [
        json.dumps({"name": "Kettle", "sku": "K-1", "price": 19.9, "stock": 2}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"name": "Mug", "sku": "M-1", "price": "3.00", "colour": "red"}),
        json.dumps({"name": "Mug", "sku": "M-2", "price": "3.00"}),
    ]
    path.write_text("\n".join(lines) + "\n")

    out, err, error = run_import(path)

    assert error == "3 rows rejected; the other rows were loaded."
    assert (
        err.splitlines()[0]
        == "line 3: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert err.splitlines()[1:] == ["line 4: not a JSON object", "line 5: unknown field(s): colour"]
    assert list(Product.objects.order_by("id").values_list("sku", "price")) == [
        ("K-1", Decimal("19.90")),
        ("M-2", Decimal("3.00")),
    ]


def test_a_csv_with_an_unknown_or_a_missing_column_loads_nothing(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("name,sku,colour\nLamp,L-1,red\n")

    _, _, error = run_import(path)

    assert error == (
        "CSV header ['name', 'sku', 'colour']: unknown column(s): colour; missing column(s): price."
        " Columns: name, description, sku, price, stock."
    )
    assert Product.objects.count() == 0


def test_an_import_publishes_one_collection_wide_invalidation_at_the_end(tmp_path, django_capture_on_commit_callbacks):
    path = tmp_path / "products.csv"
    path.write_text("name,sku,price\n" + "".join(f"Lamp {i},L-{i},1.00\n" for i in range(7)))

    with django_capture_on_commit_callbacks(execute=True):
        out, _, error = run_import(path, "--batch-size", "2")

    assert error is None
    assert counters() == {"inv:products:*": 1}
    assert Product.objects.count() == 7


def test_an_import_larger_than_the_table_rebuilds_its_indexes_a_smaller_one_keeps_them(tmp_path, make_product):
    before = index_names()
    for i in range(3):
        make_product(sku=f"OLD-{i}")
    path = tmp_path / "products.csv"
    path.write_text("name,sku,price\n" + "".join(f"Lamp {i},L-{i},1.00\n" for i in range(4)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")

    large, _, _ = run_import(path)
    path.write_text("name,sku,price\nLamp,ONE-1,1.00\n")
    small, _, _ = run_import(path)

    assert large.endswith("rows/s, rebuild)\n")
    assert small.endswith("rows/s, incremental)\n")
    assert index_names() == before
    assert Product.objects.count() == 8


def test_the_errors_option_writes_every_rejected_row(tmp_path):
    path, report = tmp_path / "products.csv", tmp_path / "rejected.csv"
    path.write_text("name,sku,price\n" + "".join(f"Lamp {i},L-{i},x\n" for i in range(25)))

    _, err, error = run_import(path, "--errors", str(report))

    assert error == "25 rows rejected; the other rows were loaded."
    assert (len(err.splitlines()), err.splitlines()[-1]) == (21, "... and 5 more")
    assert report.read_text().splitlines()[:2] == ["line,reason", "2,price: A valid number is required."]
    assert len(report.read_text().splitlines()) == 26


def test_a_row_that_is_not_utf8_is_one_bad_row(tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(b"name,sku,price\nLamp \xff,L-1,1.00\nMug,M-1,2.00\n")

    _, err, error = run_import(path)

    assert error == "1 rows rejected; the other rows were loaded."
    assert err.splitlines() == ["line 2: name: Surrogate characters are not allowed: U+DCFF."]
    assert list(Product.objects.values_list("sku", flat=True)) == ["M-1"]


def test_a_field_longer_than_csv_reads_is_one_bad_row_and_the_rows_after_it_load(tmp_path):
    path = tmp_path / "products.csv"
    huge = "x" * 200_000  # past the csv module's field limit (131,072 characters)
    path.write_text(f"name,sku,price,description\nLamp,L-1,1.00,\nMug,M-1,2.00,{huge}\nCup,C-1,3.00,\n")

    out, err, error = run_import(path)

    assert error == "1 rows rejected; the other rows were loaded."
    assert err.splitlines() == ["line 3: not valid CSV: field larger than field limit (131072)"]
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["C-1", "L-1"]
    assert "3 rows read, 2 created, 1 rejected" in out


def test_a_file_without_a_known_suffix_needs_format(tmp_path):
    path = tmp_path / "products.txt"
    path.write_text("name,sku,price\nLamp,L-1,1.00\n")

    _, _, error = run_import(path)
    out, _, accepted = run_import(path, "--format", "csv")

    assert error == f"Cannot tell the format of {path}: name it .csv or .jsonl, or pass --format."
    assert (accepted, Product.objects.count()) == (None, 1)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_rows_are_written_on_a_thread_and_committed(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("name,sku,price\n" + "".join(f"Lamp {i},L-{i},1.00\n" for i in range(30)) + "Bad,B-1,x\n")

    out, err, error = run_import(path, "--batch-size", "7")

    assert error == "1 rows rejected; the other rows were loaded."
    assert err.splitlines() == ["line 32: price: A valid number is required."]
    assert sorted(Product.objects.values_list("sku", flat=True)) == sorted(f"L-{i}" for i in range(30))


class Interrupted(Exception):
    """Whatever ends an import half-way (Ctrl-C, a lost connection)."""


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_incremental_import_keeps_its_committed_batches_and_still_invalidates_once(
    tmp_path, make_product
):
    for i in range(10):
        make_product(sku=f"OLD-{i}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")
    before = counters()["inv:products:*"]
    path = tmp_path / "products.csv"
    path.write_text("name,sku,price\n" + "".join(f"Lamp {i},L-{i},1.00\n" for i in range(6)))
    written = []

    def interrupt_after_the_first_batch(rows: int) -> None:
        written.append(rows)
        raise Interrupted

    with pytest.raises(Interrupted):
        import_file(PRODUCT_IMPORT, str(path), batch_size=2, progress=interrupt_after_the_first_batch, total=6)

    assert written == [2]
    assert list(Product.objects.filter(sku__startswith="L-").order_by("sku").values_list("sku", flat=True)) == [
        "L-0",
        "L-1",
    ]
    assert counters()["inv:products:*"] == before + 1


def test_seeding_past_existing_rows_leaves_no_hole_in_the_ids():
    call_command("seed_products", "--count", "3", stdout=StringIO())
    call_command("seed_products", "--count", "6", stdout=StringIO())

    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + 6))


def test_the_import_checks_accept_and_refuse_exactly_what_drf_does_fast_path_and_remembered_values_alike():
    assert disagreements(PRODUCT_IMPORT) == []
    base = {"name": "Lamp", "sku": "LAMP-1", "price": "12.50", "description": "", "stock": "3"}
    for field in FIELDS:
        assert memo_disagreements(PRODUCT_IMPORT, base, field) == [], field


def test_a_price_is_the_quantized_decimal_a_post_stores_and_true_is_no_stock_of_one():
    checker = RowChecker(PRODUCT_IMPORT)
    base = {"name": "Lamp", "sku": "LAMP-1", "price": "12.5"}

    assert [checker.check(base)["price"] for _ in range(2)] == [Decimal("12.50")] * 2
    assert str(checker.check(base)["price"]) == "12.50"
    assert checker.check({**base, "stock": 1})["stock"] == 1
    assert checker.check({**base, "stock": True}) == "stock: A valid integer is required."
