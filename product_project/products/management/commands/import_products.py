"""import_products FILE: load products from CSV or JSON Lines (svc_common.importing; docs/data.md)."""

from products.services import PRODUCT_IMPORT
from svc_common.importing import ImportCommand


class Command(ImportCommand):
    help = "Load products (name, sku, price, description, stock) from CSV or JSON Lines, in batches."
    spec = PRODUCT_IMPORT
