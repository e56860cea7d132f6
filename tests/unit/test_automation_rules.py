"""Automation conditions as pure rules: paths, each operator, and what is refused."""

from __future__ import annotations

from elevatedpos.rules.automations import (
    check_actions,
    check_conditions,
    check_trigger,
    customer_of,
    holds,
    matches,
    resolve,
)

EVENT = {
    "id": "e1",
    "type": "order.completed",
    "orgId": "o1",
    "createdAt": "2026-11-29T10:00:00Z",
    "data": {
        "customerId": "c1",
        "total": {"amount": 2500, "currency": "AUD"},
        "campaignIds": ["k1", "k2"],
        "note": "table 4, window",
        "paid": True,
        "lineItems": [{"sku": "LAT", "quantity": 2}],
    },
}


def cond(field: str, op: str, value: object) -> dict[str, object]:
    return {"field": field, "op": op, "value": value}


def test_paths_reach_into_objects_and_lists():
    assert resolve(EVENT, "data.total.amount") == 2500
    assert resolve(EVENT, "data.lineItems.0.sku") == "LAT"
    assert resolve(EVENT, "type") == "order.completed"
    for missing in ("data.total.cents", "data.lineItems.1.sku", "data.note.x", "nope"):
        assert not holds(EVENT, cond(missing, "ne", "anything")), missing


def test_each_operator():
    assert holds(EVENT, cond("data.total.amount", "eq", 2500))
    assert holds(EVENT, cond("data.total.amount", "eq", 2500.0))
    assert holds(EVENT, cond("data.total.amount", "ne", 2499))
    assert holds(EVENT, cond("data.total.amount", "gt", 2499))
    assert not holds(EVENT, cond("data.total.amount", "gt", 2500))
    assert holds(EVENT, cond("data.total.amount", "gte", 2500))
    assert holds(EVENT, cond("data.total.amount", "lt", 3000))
    assert holds(EVENT, cond("data.total.amount", "lte", 2500))
    assert holds(EVENT, cond("data.customerId", "in", ["c0", "c1"]))
    assert not holds(EVENT, cond("data.customerId", "in", ["c0"]))
    assert holds(EVENT, cond("data.campaignIds", "contains", "k2"))
    assert holds(EVENT, cond("data.note", "contains", "window"))
    assert not holds(EVENT, cond("data.note", "contains", "door"))


def test_no_coercion_across_types():
    assert not holds(EVENT, cond("data.total.amount", "eq", "2500"))
    assert not holds(EVENT, cond("data.total.amount", "gt", "1000"))  # number vs string
    assert not holds(EVENT, cond("data.paid", "eq", 1))  # true is not 1
    assert holds(EVENT, cond("data.paid", "eq", True))
    assert holds(EVENT, cond("data.note", "gt", "table"))  # strings order as strings


def test_all_conditions_must_hold():
    assert matches(EVENT, [])
    assert matches(
        EVENT, [cond("data.total.amount", "gte", 2000), cond("type", "eq", "order.completed")]
    )
    assert not matches(
        EVENT, [cond("data.total.amount", "gte", 2000), cond("data.paid", "eq", False)]
    )


def test_the_customer_of_an_event():
    assert customer_of(EVENT) == "c1"
    assert customer_of({"type": "customer.created", "data": {"id": "c9"}}) == "c9"
    assert customer_of({"type": "product.created", "data": {"id": "p1"}}) is None


def test_definitions_are_checked():
    assert check_trigger("order.completed") == []
    assert [e.field for e in check_trigger("order.eaten")] == ["trigger"]
    errors = check_conditions(
        [
            cond("", "eq", 1),
            cond("data.x", "like", 1),
            cond("data.x", "in", 3),
            cond("a..b", "gt", []),
        ]
    )
    assert [e.field for e in errors] == [
        "conditions.0.field",
        "conditions.1.op",
        "conditions.2.value",
        "conditions.3.field",
        "conditions.3.value",
    ]
    assert [e.field for e in check_actions([])] == ["actions"]
    errors = check_actions(
        [
            {"type": "accrue_points", "params": {"points": 0}},
            {"type": "accrue_points", "params": {"points": True}},
            {"type": "tag_customer", "params": {"tag": " "}},
            {"type": "send_webhook", "params": {"webhookId": "w1"}},
            {"type": "explode", "params": {}},
        ]
    )
    assert [e.field for e in errors] == [
        "actions.0.params.points",
        "actions.1.params.points",
        "actions.2.params.tag",
        "actions.3.params.webhookId",
        "actions.4.type",
    ]
    assert check_actions([{"type": "tag_customer", "params": {"tag": "vip"}}]) == []
