"""A request's route: its URL pattern's name, the bounded value that metrics and log lines use."""

from django.urls import Resolver404, get_resolver

UNMATCHED_ROUTE = "unmatched"


def route_name(request) -> str:
    """The resolved URL pattern's name (or view path), never the raw path.

    Requests answered by a middleware before URL resolution (429, 401, a cached page) are resolved here.
    """
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404:
            return UNMATCHED_ROUTE
    return match.view_name or match.route or UNMATCHED_ROUTE
