"""List pagination that stays fast as a table grows: page numbers near the top, keyset cursors everywhere,
and counts that never read a large table.

- `?page=N` reads with OFFSET, which walks every row it skips, so page numbers reach only the first
  `PAGINATION_MAX_OFFSET` rows (10,000); a deeper page is a 400 `page_too_deep`. A page reads one row more
  than it shows to know whether another follows: finding a page needs no COUNT.
- `?cursor=<token>` is DRF's CursorPagination on a unique position: the value of the ordering field and the
  id. `WHERE (price, id) > (19.99, 4711) ORDER BY price, id LIMIT 21` starts inside the (price, id) btree,
  as cheap on the last page as on the first. `?cursor=` (empty) starts at the first row. Where page numbers
  stop, a page's `next` link is a cursor, so a client that follows `next` reads the whole list.
- `count` (page-number pages only) is exact up to `PAGINATION_EXACT_COUNT_LIMIT` rows (1,000) and
  `count_estimated` is false. PostgreSQL's estimate comes first (the table's `reltuples`, kept by ANALYZE
  and autovacuum, for an unfiltered list; the planner's row estimate, from EXPLAIN, for a filtered one):
  beyond the limit it is the count, `count_estimated` is true and no row is counted; within it, the rows
  are counted under a LIMIT, so a count never reads more than limit + 1 rows. A last page needs no count:
  its rows give it. On other databases (the SQLite fallback) counts are exact.

The tuple comparison is Django's own (`django.db.models.fields.tuple_lookups`, added for composite primary
keys in 5.2): a row comparison on PostgreSQL, the equivalent ANDs and ORs on SQLite. The module is not in
Django's documented API, so Django stays pinned exactly (requirements/base.txt).
"""

import json
import math
from functools import cached_property

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from .exceptions import PageTooDeep

DEFAULT_MAX_OFFSET = 10_000
DEFAULT_EXACT_COUNT_LIMIT = 1_000
MAX_PAGE_SIZE = 100


def max_offset() -> int:
    """How many rows page numbers reach (PAGINATION_MAX_OFFSET)."""
    return getattr(settings, "PAGINATION_MAX_OFFSET", DEFAULT_MAX_OFFSET)


def exact_count_limit() -> int:
    """Up to how many rows a count is exact (PAGINATION_EXACT_COUNT_LIMIT)."""
    return getattr(settings, "PAGINATION_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


def table_estimate(model) -> int:
    """PostgreSQL's row estimate of the model's table (pg_class.reltuples); -1 until the table is analysed."""
    connection = connections[model.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        return int(cursor.fetchone()[0])


def planner_estimate(queryset: QuerySet) -> int:
    """The rows PostgreSQL's planner expects the query to return (EXPLAIN, nothing executed)."""
    plan = json.loads(queryset.explain(format="json"))
    return int((plan[0] if isinstance(plan, list) else plan)["Plan"]["Plan Rows"])


def count_rows(queryset: QuerySet, *, at_least: int = 0) -> tuple[int, bool]:
    """(count, exact) of a list that holds at least `at_least` rows: exact up to the limit, PostgreSQL's
    estimate beyond. It reads at most limit + 1 rows, and none when the estimate is already past the limit."""
    queryset = queryset.order_by()
    if connections[queryset.db].vendor != "postgresql":
        return queryset.count(), True
    limit = exact_count_limit()
    estimate = table_estimate(queryset.model) if not queryset.query.where else planner_estimate(queryset)
    if estimate > limit:
        return max(estimate, at_least), False
    # Counting under a LIMIT the planner does not expect to reach: no early-stopping scan of the table.
    counted = queryset[: limit + 1].count()
    if counted <= limit:
        return counted, True
    # Statistics older than the rows (a bulk load before ANALYZE): at least what was counted.
    return max(estimate, counted, at_least), False


def queryset_ordering(queryset: QuerySet) -> tuple[str, ...]:
    """The queryset's ordering as field names, checked to be a keyset: one direction, a unique field last."""
    model = queryset.model
    ordering = tuple(queryset.query.order_by) or tuple(model._meta.ordering)
    pk = model._meta.pk.name
    names = []
    for term in ordering:
        if not isinstance(term, str) or "__" in term:
            raise ImproperlyConfigured(f"Keyset pagination needs field names, not {term!r}.")
        descending = term.startswith("-")
        name = pk if term.lstrip("-") == "pk" else term.lstrip("-")
        names.append(("-" if descending else "") + name)
    if not names or len({term.startswith("-") for term in names}) != 1:
        raise ImproperlyConfigured(f"Keyset pagination needs one direction for every field, not {ordering!r}.")
    last = model._meta.get_field(names[-1].lstrip("-"))
    if not (last.primary_key or last.unique):
        raise ImproperlyConfigured(f"Keyset pagination needs a unique field last, not {ordering!r}.")
    return tuple(names)


def reversed_ordering(ordering: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(term[1:] if term.startswith("-") else "-" + term for term in ordering)


class KeysetCursorPagination(CursorPagination):
    """DRF's CursorPagination whose position is every field of the ordering (the field, then id): unique, so
    a cursor never needs DRF's offset and a page starts with one row comparison inside the index."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_description = (
        "An opaque position from a `next` or `previous` link; empty for the first page. Any depth costs the same."
    )

    def get_ordering(self, request, queryset, view):
        return queryset_ordering(queryset)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # Positions are unique, so this paginator writes no offset; one in a hand-made cursor means nothing.
        return cursor._replace(offset=0) if cursor else None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        reverse, position = (self.cursor.reverse, self.cursor.position) if self.cursor else (False, None)
        queryset = queryset.order_by(*(reversed_ordering(self.ordering) if reverse else self.ordering))
        if position is not None:
            descending = self.ordering[0].startswith("-")
            after = TupleLessThan if reverse != descending else TupleGreaterThan
            columns = Tuple(*(F(term.lstrip("-")) for term in self.ordering))
            queryset = queryset.filter(after(columns, self.position_values(queryset.model, position)))
        rows = list(queryset[: self.page_size + 1])
        self.page = rows[: self.page_size]
        following = self._get_position_from_instance(rows[-1], self.ordering) if len(rows) > self.page_size else None
        if reverse:
            self.page.reverse()
            self.has_next, self.next_position = position is not None, position
            self.has_previous, self.previous_position = following is not None, following
        else:
            self.has_next, self.next_position = following is not None, following
            self.has_previous, self.previous_position = position is not None, position
        self.display_page_controls = (self.has_next or self.has_previous) and self.template is not None
        return self.page

    def _get_position_from_instance(self, instance, ordering):
        """The position after (or before) this row: the text of each ordering field, as JSON."""
        return json.dumps([instance._meta.get_field(term.lstrip("-")).value_to_string(instance) for term in ordering])

    def position_values(self, model, position: str) -> list:
        """A cursor's position as the ordering fields' values; a 404 "Invalid cursor" when it is not one."""
        try:
            texts = json.loads(position)
            if not isinstance(texts, list) or len(texts) != len(self.ordering):
                raise ValueError(position)
            values = []
            for term, text in zip(self.ordering, texts, strict=True):
                if not isinstance(text, str):
                    raise ValueError(position)
                field = model._meta.get_field(term.lstrip("-"))
                value = field.to_python(text)
                field.run_validators(value)  # range and length: a value the column cannot hold is no position
                values.append(value)
        except (ValueError, DjangoValidationError) as exc:
            raise NotFound(self.invalid_cursor_message) from exc
        return values

    def link_after(self, base_url: str, ordering: tuple[str, ...], row) -> str:
        """A link to the rows that follow `row` in this ordering."""
        self.base_url, self.ordering = base_url, ordering
        return self.encode_cursor(
            Cursor(offset=0, reverse=False, position=self._get_position_from_instance(row, ordering))
        )


class BoundedPaginator(Paginator):
    """Django's Paginator that finds a page without a COUNT (it reads one row more than the page), refuses
    pages deeper than max_offset(), and counts with count_rows()."""

    def validate_number(self, number):
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError(number)
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page >= max_offset():
            raise PageTooDeep(
                f"Page numbers reach the first {max_offset():,} rows; follow the `next` link of the last page"
                " they reach (a cursor), or start with `?cursor=`, to read further."
            )
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        has_next = len(rows) > self.per_page
        if not has_next:
            self.counted = (bottom + len(rows), True)  # the last page: its rows tell the count
        elif "counted" not in self.__dict__:
            self.counted = count_rows(self.object_list, at_least=bottom + len(rows))
        return BoundedPage(rows[: self.per_page], number, self, has_next=has_next)

    @cached_property
    def counted(self) -> tuple[int, bool]:
        """Set by page() when the page read shows the end of the list; counted otherwise."""
        return count_rows(self.object_list)

    @cached_property
    def count(self):
        return self.counted[0]

    @cached_property
    def num_pages(self):
        """The pages that page numbers reach (the browsable API's page links)."""
        reachable = math.ceil(max_offset() / self.per_page)
        return max(1, min(math.ceil(self.count / self.per_page), reachable))


class EstimatedCountPaginator(Paginator):
    """Django's Paginator with count_rows()'s count, for the admin's change lists on large tables."""

    @cached_property
    def count(self):
        return count_rows(self.object_list)[0]


class BoundedPage(Page):
    """A page that knows whether another follows from the extra row its paginator read."""

    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self):
        return self._has_next


class ListPagination(PageNumberPagination):
    """Every list of the services: `?page=` near the top, `?cursor=` at any depth, bounded counts."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    django_paginator_class = BoundedPaginator
    last_page_strings = ()  # "last" would need an exact count
    cursor_query_param = "cursor"
    page_query_description = "A page number. Page numbers reach only the first rows (10,000); follow `next` beyond."

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.ordering = queryset_ordering(queryset)
        self.cursor_pagination = None
        if self.cursor_query_param in request.query_params:
            self.cursor_pagination = KeysetCursorPagination()
            return self.cursor_pagination.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.cursor_pagination is not None:
            return self.cursor_pagination.get_paginated_response(data)
        count, exact = self.page.paginator.counted
        return Response(
            {
                "count": count,
                "count_estimated": not exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_next_link(self):
        """The next page number, or a cursor after this page's last row where page numbers stop."""
        if self.page.has_next() and self.page.number * self.page.paginator.per_page >= max_offset():
            base_url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
            return KeysetCursorPagination().link_after(base_url, self.ordering, self.page[-1])
        return super().get_next_link()

    def get_html_context(self):
        if self.cursor_pagination is not None:
            return self.cursor_pagination.get_html_context()
        return super().get_html_context()

    def to_html(self):
        if self.cursor_pagination is not None:
            return self.cursor_pagination.to_html()
        return super().to_html()

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": "Page-number pages only: exact up to 1,000 rows, PostgreSQL's estimate beyond.",
                },
                "count_estimated": {
                    "type": "boolean",
                    "description": "Page-number pages only: true when `count` is an estimate.",
                },
                "next": {**link, "example": "http://api.example.org/accounts/?page=4"},
                "previous": {**link, "example": "http://api.example.org/accounts/?page=2"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": KeysetCursorPagination.cursor_query_description,
            "schema": {"type": "string"},
        }
        return [*super().get_schema_operation_parameters(view), cursor]
