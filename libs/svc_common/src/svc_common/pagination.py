"""Page-number pagination whose page size a client may lower or raise, up to a cap."""

from rest_framework.pagination import PageNumberPagination


class CappedPageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
