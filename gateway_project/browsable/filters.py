"""The filter forms of a list, as DRF's browsable API shows a service's: drawn from the query parameters the
gateway's contract declares for the route (the services' own filters, search and ordering).

DRF shows a view's filter backends that have to_html(); these have nothing to filter (the service filters),
only a form to draw. Pagination parameters are left to the page links.
"""

from rest_framework.filters import BaseFilterBackend

from django import forms
from django.template import loader

PAGINATION = frozenset({"cursor", "page", "page_size"})
SEARCH = "search"
ORDERING = "ordering"


class FieldFilters(BaseFilterBackend):
    """The list's own filters (e.g. min_price, sku), as django-filter's form on the service."""

    template = "browsable/filters/fields.html"

    def to_html(self, request, queryset, view) -> str:
        parameters = [p for p in view.query_parameters() if p["name"] not in PAGINATION | {SEARCH, ORDERING}]
        if not parameters:
            return ""
        form_class = type("FieldFilterForm", (forms.Form,), {p["name"]: form_field(p) for p in parameters})
        form = form_class(request.query_params or None)
        return loader.get_template(self.template).render({"form": form}, request._request)


class SearchFilter(BaseFilterBackend):
    """The list's `search` parameter, as DRF's SearchFilter draws it."""

    template = "rest_framework/filters/search.html"

    def to_html(self, request, queryset, view) -> str:
        if not any(p["name"] == SEARCH for p in view.query_parameters()):
            return ""
        context = {"param": SEARCH, "term": request.query_params.get(SEARCH, "")}
        return loader.get_template(self.template).render(context, request._request)


class OrderingFilter(BaseFilterBackend):
    """The list's `ordering` choices, as DRF's OrderingFilter draws them."""

    template = "rest_framework/filters/ordering.html"

    def to_html(self, request, queryset, view) -> str:
        parameter = next((p for p in view.query_parameters() if p["name"] == ORDERING), None)
        if parameter is None or "enum" not in parameter["schema"]:
            return ""
        options = [
            (key, f"{key.lstrip('-')} - {'descending' if key.startswith('-') else 'ascending'}")
            for key in parameter["schema"]["enum"]
        ]
        context = {
            "request": request,
            "current": request.query_params.get(ORDERING),
            "param": ORDERING,
            "options": options,
        }
        return loader.get_template(self.template).render(context, request._request)


def form_field(parameter: dict) -> forms.Field:
    """A form field for a query parameter's schema."""
    schema = parameter.get("schema", {})
    options = {"required": False, "help_text": parameter.get("description", "")}
    if "enum" in schema:
        return forms.ChoiceField(choices=[("", "---------"), *((v, v) for v in schema["enum"])], **options)
    if schema.get("type") == "integer":
        return forms.IntegerField(min_value=schema.get("minimum"), max_value=schema.get("maximum"), **options)
    if schema.get("type") == "number":
        return forms.DecimalField(**options)
    return forms.CharField(min_length=schema.get("minLength"), max_length=schema.get("maxLength"), **options)
