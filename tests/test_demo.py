"""The demo café is something a merchant can click through."""

from __future__ import annotations

from elevatedpos.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


async def test_demo_cafe_has_a_catalog_stock_and_alerts(client, runtime):
    first = await seed_demo(runtime.db)
    again = await seed_demo(runtime.db)
    assert first == again  # loading twice changes nothing
    login = await client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
    products = (
        await client.get("/api/v1/products", params={"limit": "100"}, headers=headers)
    ).json()["data"]
    assert 45 <= len(products) <= 60
    latte = next(p for p in products if p["name"] == "Latte")
    assert [v["name"] for v in latte["variants"]] == ["Small", "Regular", "Large"]
    groups = (await client.get("/api/v1/modifiers", headers=headers)).json()["data"]
    assert {g["name"] for g in groups} == {"Milk", "Extra shot"}
    milk = next(g for g in groups if g["name"] == "Milk")
    assert milk["id"] in latte["modifierGroupIds"]
    locations = (await client.get("/api/v1/locations", headers=headers)).json()["data"]
    assert len(locations) == 2
    levels = (
        await client.get("/api/v1/inventory/levels", params={"limit": "100"}, headers=headers)
    ).json()["data"]
    assert {lv["locationId"] for lv in levels} == {loc["id"] for loc in locations}
    alerts = (await client.get("/api/v1/inventory/alerts", headers=headers)).json()["data"]
    assert alerts and all(a["onHand"] <= a["reorderPoint"] for a in alerts)
    categories = (await client.get("/api/v1/categories", headers=headers)).json()["data"]
    assert [c["name"] for c in categories][:2] == ["Coffee", "Tea & Other"]
