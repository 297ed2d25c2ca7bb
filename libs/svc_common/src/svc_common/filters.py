"""Search and ordering of the services' lists, held to what an index can serve on a large table.

- `?ordering=` takes one of the view's `ordering_fields`, `-` for descending, and appends the id in the same
  direction unless the field is unique, so each ordering is one btree's order ((price, id), (created_at, id)
  ...), stable across pages and usable as a keyset cursor (svc_common.pagination). Several fields at once,
  or an unknown one, is a 400: no index serves every combination.
- `?search=` is DRF's search (each term must occur, case-insensitively, in one of `search_fields`), which
  pg_trgm's GIN indexes on `UPPER(field)` serve on PostgreSQL. A trigram index finds nothing with fewer than
  three letters or digits in a row, so such a term is a 400 rather than a scan of the whole table.
"""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

MIN_TERM_RUN = 3
_WORD_RUN = re.compile(rf"[^\W_]{{{MIN_TERM_RUN}}}")


def ordering_with_tie_breaker(term: str, model) -> tuple[str, ...]:
    """`-price` -> ('-price', '-id'); a unique field needs no tie-breaker."""
    field = model._meta.get_field(term.lstrip("-"))
    if field.primary_key or field.unique:
        return (term,)
    return (term, ("-" if term.startswith("-") else "") + model._meta.pk.name)


class IndexedOrderingFilter(OrderingFilter):
    """One ordering field, the id as tie-breaker; anything else is a 400."""

    ordering_description = 'One field, descending with a leading "-"; rows that tie are ordered by id.'

    def allowed_terms(self, view) -> list[str]:
        return [term for field in view.ordering_fields for term in (field, f"-{field}")]

    def get_ordering(self, request, queryset, view):
        term = request.query_params.get(self.ordering_param, "").strip()
        if not term:
            (default,) = self.get_default_ordering(view)
            return ordering_with_tie_breaker(default, queryset.model)
        allowed = self.allowed_terms(view)
        if term not in allowed:
            raise ValidationError({self.ordering_param: [f"Order by one of: {', '.join(allowed)}."]})
        return ordering_with_tie_breaker(term, queryset.model)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": self.ordering_description,
                "schema": {"type": "string", "enum": self.allowed_terms(view)},
            }
        ]


class IndexedSearchFilter(SearchFilter):
    """DRF's search, served by trigram indexes; a term without three letters or digits in a row is a 400."""

    def get_search_terms(self, request):
        terms = super().get_search_terms(request)
        if any(not _WORD_RUN.search(term) for term in terms):
            message = f"Each search term needs {MIN_TERM_RUN} letters or digits in a row."
            raise ValidationError({self.search_param: [message]})
        return terms

    def get_schema_operation_parameters(self, view):
        fields = ", ".join(view.search_fields)
        description = (
            f"Words that must each occur, in any case, in one of: {fields}. Each needs {MIN_TERM_RUN} letters"
            " or digits in a row."
        )
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": "string", "minLength": MIN_TERM_RUN},
            }
        ]
