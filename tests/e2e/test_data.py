"""Loading a team's own data into the running system: ./manage_all.sh manage products import_products FILE."""

import subprocess

from support.stack import ROOT


def test_rows_imported_with_manage_all_are_served_at_once_through_the_gateways_cached_list(stack, tmp_path):
    url = "/api/products/?search=Gizmotron"
    with stack.client() as client:
        # The token's first use and the page's first fill are misses; the page is cached within a few reads.
        for _ in range(5):
            cached = client.get(url)
            if cached.headers.get("X-Cache") == "HIT":
                break
        (tmp_path / "gizmos.csv").write_text(
            "name,sku,price,stock\n"
            "Gizmotron one,GIZMO-1,10.00,1\n"
            "Gizmotron two,GIZMO-2,20.00,2\n"
            "Gizmotron bad,GIZMO-3,-1,3\n"
        )
        # A path relative to the caller's directory, as a person types it.
        result = subprocess.run(
            [str(ROOT / "manage_all.sh"), "manage", "products", "import_products", "gizmos.csv"],
            env=stack.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        fresh = client.get(url)

    assert (cached.headers["X-Cache"], cached.json()["count"]) == ("HIT", 0)
    assert result.returncode == 1
    assert "line 4: price: Ensure this value is greater than or equal to 0." in result.stderr
    assert result.stdout.startswith("products: 3 rows read, 2 created, 1 rejected in ")
    assert fresh.headers["X-Cache"] in ("MISS", "STALE")
    assert [(p["sku"], p["price"]) for p in fresh.json()["results"]] == [("GIZMO-1", "10.00"), ("GIZMO-2", "20.00")]
