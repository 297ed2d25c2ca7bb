"""Query-plan checks for the user and product suites: every SELECT a request runs, EXPLAINed on a big table.

A test loads its table once per module with the service's own seed (generate_series), VACUUM ANALYZEs it so
the planner sees real sizes, calls the API as the gateway does, and EXPLAINs (no ANALYZE: nothing more is
executed) each statement the request ran. A plan fails when it reads the big table with a sequential scan,
or reads it without any index.
"""

import json
from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext

INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan"}


@contextmanager
def loaded_table(django_db_blocker, table: str, load):
    """The table filled by load() (committed, analysed) for the block, emptied and re-analysed after it, so
    the other tests meet an empty table with matching statistics."""
    with django_db_blocker.unblock():
        load()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
                cursor.execute(f"ANALYZE {table}")


def nodes(plan: dict):
    """Every node of an EXPLAIN (FORMAT JSON) plan, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def explain(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (document,) = cursor.fetchone()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def statements(client, url: str, table: str) -> tuple[int, list[str]]:
    """(status, the SELECTs reading `table`) of one GET; the planner's own EXPLAINs are left out."""
    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code
    selects = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT") and f'"{table}"' in query["sql"]
    ]
    return status, selects


def plan_problems(client, url: str, table: str) -> list[str]:
    """Why the request's reads of `table` are not index reads; empty when every one is."""
    status, selects = statements(client, url, table)
    if status != 200:
        return [f"GET {url} answered {status}"]
    if not selects:
        return [f"GET {url} read nothing from {table}"]
    problems = []
    for sql in selects:
        plan = explain(sql)
        scans = [node for node in nodes(plan) if node.get("Relation Name") == table or "Index Name" in node]
        kinds = {node["Node Type"] for node in scans}
        if "Seq Scan" in kinds:
            problems.append(f"sequential scan of {table} in: {sql}\n{json.dumps(plan, indent=1)[:3000]}")
        elif not kinds & INDEX_SCANS:
            problems.append(f"no index read of {table} in: {sql}\n{json.dumps(plan, indent=1)[:3000]}")
    return problems


def indexes_used(client, url: str, table: str) -> set[str]:
    """The indexes the plans of the request's reads name."""
    _, selects = statements(client, url, table)
    return {node["Index Name"] for sql in selects for node in nodes(explain(sql)) if "Index Name" in node}


def deep_cursor(model, list_url: str, term: str) -> str:
    """The query string of a cursor halfway down `list_url`'s rows in the ordering `term`."""
    from svc_common.filters import ordering_with_tie_breaker
    from svc_common.pagination import KeysetCursorPagination

    ordering = ordering_with_tie_breaker(term, model)
    middle = model.objects.order_by(*ordering)[model.objects.count() // 2]
    return (
        KeysetCursorPagination()
        .link_after(f"http://testserver{list_url}?ordering={term}", ordering, middle)
        .split("?", 1)[1]
    )
