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


async def test_demo_cafe_has_customers_with_tags(client, runtime):
    await seed_demo(runtime.db)
    login = await client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
    customers = (await client.get("/api/v1/customers", headers=headers)).json()["data"]
    assert len(customers) == 12
    assert customers[0]["lastName"] == "Anderson"
    assert "olivia.nguyen@example.com" in {c["email"] for c in customers}
    assert {c["marketingOptIn"] for c in customers} == {True, False}
    vips = (await client.get("/api/v1/customers", params={"tag": "vip"}, headers=headers)).json()[
        "data"
    ]
    assert [c["lastName"] for c in vips] == ["Chen", "Nguyen", "Taylor"]


async def test_demo_cafe_has_days_of_orders_and_a_live_campaign(client, runtime):
    await seed_demo(runtime.db)
    login = await client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
    orders = (await client.get("/api/v1/orders", params={"limit": "100"}, headers=headers)).json()[
        "data"
    ]
    assert len(orders) >= 20
    assert {o["status"] for o in orders} == {
        "completed",
        "voided",
        "partially_refunded",
        "refunded",
    }
    assert len({o["createdAt"][:10] for o in orders}) >= 3  # spread over several days
    numbers = [o["number"] for o in orders]
    assert numbers == sorted(numbers, reverse=True)
    campaigns = (
        await client.get("/api/v1/campaigns", params={"status": "active"}, headers=headers)
    ).json()["data"]
    assert [c["code"] for c in campaigns] == ["WELCOME10"]
    stats = (
        await client.get(f"/api/v1/campaigns/{campaigns[0]['id']}/stats", headers=headers)
    ).json()["data"]
    assert stats["orders"] >= 1 and stats["discountTotal"]["amount"] > 0
    discounted = [o for o in orders if o["campaignIds"] == [campaigns[0]["id"]]]
    assert discounted and all(o["discountTotal"]["amount"] > 0 for o in discounted)


async def test_demo_cafe_has_a_loyalty_program_its_orders_earned_points_in(client, runtime):
    await seed_demo(runtime.db)
    login = await client.post(
        "/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
    [program] = (await client.get("/api/v1/loyalty/programs", headers=headers)).json()["data"]
    assert program["status"] == "active" and program["name"] == "Coffee Club"
    assert [r["name"] for r in program["rewards"]] == ["Free coffee", "Free brunch"]
    orders = (await client.get("/api/v1/orders", params={"limit": "100"}, headers=headers)).json()[
        "data"
    ]
    sold_to = {o["customerId"] for o in orders if o["status"] == "completed" and o["customerId"]}
    assert sold_to
    balances = [
        (await client.get(f"/api/v1/loyalty/members/{c}", headers=headers)).json()["data"]
        for c in sorted(sold_to)
    ]
    assert all(m["lifetimePoints"] > 0 for m in balances), balances
    [rule] = (await client.get("/api/v1/automations", headers=headers)).json()["data"]
    assert rule["trigger"] == "order.completed" and rule["enabled"] is True
