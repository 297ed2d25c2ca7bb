"""DRF's BrowsableAPIRenderer with the gateway's page names, breadcrumbs and branding."""

from rest_framework.renderers import BrowsableAPIRenderer

from access.routes import match

ROOT = "/api/"


def page_name(path: str) -> str:
    """What a page of the API is called: "Products", "Product 7", "User 1 and product 2"..."""
    route = match(path)
    if route is None:
        return "API root" if path == ROOT else path.removeprefix(ROOT).strip("/").replace("/", " ").capitalize()
    if route.service is None:
        return f"User {route.ids[0]} and product {route.ids[1]}"
    if route.ids:
        return f"{route.service.removesuffix('s').capitalize()} {route.ids[0]}"
    return route.service.capitalize()


class GatewayBrowsableAPIRenderer(BrowsableAPIRenderer):
    template = "browsable/api.html"

    def get_breadcrumbs(self, request):
        """The API root, then the list above an object, then the page itself (by path: one view serves many)."""
        path = request.path
        crumbs = [(page_name(ROOT), ROOT)]
        route = match(path)
        if route is not None and route.service is not None and route.ids:
            crumbs.append((page_name(f"{ROOT}{route.service}/"), f"{ROOT}{route.service}/"))
        if path != ROOT:
            crumbs.append((page_name(path), request.get_full_path()))
        return crumbs
