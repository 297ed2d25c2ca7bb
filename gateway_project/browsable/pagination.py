"""A service's page links, shown by DRF's browsable API as it shows a paginator's."""

from rest_framework.pagination import BasePagination

from django.template import loader


class UpstreamPageLinks(BasePagination):
    """The `previous` and `next` links a service put in its page (they already name the gateway's host)."""

    template = "rest_framework/pagination/previous_and_next.html"

    def __init__(self, data):
        links = data if isinstance(data, dict) else {}
        self.previous_url = links.get("previous")
        self.next_url = links.get("next")

    @property
    def display_page_controls(self) -> bool:
        return bool(self.previous_url or self.next_url)

    def to_html(self) -> str:
        context = {"previous_url": self.previous_url, "next_url": self.next_url}
        return loader.get_template(self.template).render(context)
