"""The demo catalogue `seed_products --count N` generates: varied enough for search, filters and orderings.

Product i is "<adjective> <noun> i" (20 adjectives x 50 nouns: a noun matches one product in 50, an
adjective one in 20), sku SKU-<i, at least 6 digits>, a price from 1.00 to 1000.98 spread by a
multiplicative hash, stock 0 to 999. `SEED_SQL` makes exactly the rows `demo_product()` makes, with
PostgreSQL's generate_series (a million in seconds); elsewhere the rows are built in Python. The SQL spreads
creation times a second apart, oldest first; the Python path stamps them all now.
"""

from decimal import Decimal

from svc_common.bulk import DemoRows

ADJECTIVES = (
    "Red", "Blue", "Green", "Black", "White", "Compact", "Large", "Small", "Vintage", "Modern",
    "Classic", "Smart", "Wooden", "Steel", "Glass", "Leather", "Cotton", "Wireless", "Portable", "Deluxe",
)  # fmt: skip
NOUNS = (
    "Lamp", "Chair", "Table", "Desk", "Sofa", "Shelf", "Mirror", "Clock", "Rug", "Vase",
    "Kettle", "Toaster", "Blender", "Speaker", "Headphones", "Keyboard", "Mouse", "Monitor", "Camera", "Backpack",
    "Wallet", "Watch", "Bottle", "Mug", "Pillow", "Blanket", "Jacket", "Sneakers", "Hat", "Scarf",
    "Umbrella", "Notebook", "Pen", "Stapler", "Drill", "Hammer", "Saw", "Wrench", "Ladder", "Bucket",
    "Bicycle", "Helmet", "Tent", "Lantern", "Stove", "Cooler", "Grill", "Planter", "Hose", "Fan",
)  # fmt: skip
PRICE_SPREAD = 99_999
PRICE_STEP = 7_919  # a prime: consecutive products get unrelated prices
STOCK_STEP, STOCK_SPREAD = 37, 1_000


def demo_product(i: int) -> dict:
    """The fields of demo product i (i >= 1)."""
    return {
        "name": f"{ADJECTIVES[i % len(ADJECTIVES)]} {NOUNS[i // len(ADJECTIVES) % len(NOUNS)]} {i}",
        "description": f"Demo product number {i}.",
        "sku": demo_sku(i),
        "price": Decimal(100 + i * PRICE_STEP % PRICE_SPREAD) / 100,
        "stock": i * STOCK_STEP % STOCK_SPREAD,
    }


def demo_sku(i: int) -> str:
    return f"SKU-{i:06d}"


SKU_SQL = "'SKU-' || lpad(i::text, greatest(6, length(i::text)), '0')"
# Parameters: adjectives, nouns (text[]), count, first, last. Arrays are 1-based; i is a bigint;
# %% is the modulo operator, escaped for the driver's parameter syntax.
SEED_SQL = f"""
INSERT INTO products_product (name, description, sku, price, stock, created_at, updated_at)
SELECT (%(adjectives)s::text[])[1 + i %% {len(ADJECTIVES)}] || ' '
           || (%(nouns)s::text[])[1 + i / {len(ADJECTIVES)} %% {len(NOUNS)}] || ' ' || i,
       'Demo product number ' || i || '.',
       {SKU_SQL},
       (100 + i * {PRICE_STEP} %% {PRICE_SPREAD}) / 100.0,
       i * {STOCK_STEP} %% {STOCK_SPREAD},
       now() - make_interval(secs => %(count)s - i),
       now() - make_interval(secs => %(count)s - i)
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
"""  # noqa: S608 (constants of this module; values are parameters)
# Appended to SEED_SQL when some of the chunk's rows exist: only the missing ones reach the INSERT (a row
# that ON CONFLICT skips would still take an id and leave a hole), and a concurrent seed cannot fail it.
ONLY_MISSING_SQL = f"""
WHERE NOT EXISTS (SELECT 1 FROM products_product WHERE sku = {SKU_SQL}) ON CONFLICT DO NOTHING
"""  # noqa: S608 (constants of this module)
# How many of the demo products first..last exist already: none, all (nothing to do) or some (then SEED_SQL
# needs ONLY_MISSING_SQL).
EXISTING_SQL = f"""
SELECT count(*) FROM products_product WHERE sku IN (
    SELECT {SKU_SQL} FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i)
"""  # noqa: S608 (constants of this module; values are parameters)

# What svc_common.bulk.seed needs to make them.
PRODUCTS = DemoRows(
    insert=SEED_SQL,
    existing=EXISTING_SQL,
    only_missing=ONLY_MISSING_SQL,
    params={"adjectives": list(ADJECTIVES), "nouns": list(NOUNS)},
    row=demo_product,
    key="sku",
)
