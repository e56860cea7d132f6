"""The token-bucket rules and the in-process store, with no database and a controlled clock."""

from __future__ import annotations

import contextlib
import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elevatedpos.ratelimit import GO, REFUSE, WAIT, MemoryStore, decide, plan_limits, refill

# When a property fails, Hypothesis imports libcst to suggest a patch, and libcst's import
# raises a DeprecationWarning (from mypy_extensions) that `filterwarnings = error` turns into an
# INTERNALERROR hiding the real failure. Import it now, quietly, so the failure is reported.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):
        import libcst  # noqa: F401

# A generous slack for float rounding in the "is retry-after minimal" checks.
EPS = 1e-9


class Clock:
    """The time a ClockedStore sees; tests move it instead of sleeping."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.t = start

    def advance(self, seconds: float) -> None:
        self.t += seconds


def clocked_store(clock: Clock) -> MemoryStore:
    """A MemoryStore whose `_now` reads `clock`."""

    class ClockedStore(MemoryStore):
        @staticmethod
        def _now() -> float:
            return clock.t

    return ClockedStore()


# --- refill -------------------------------------------------------------------------------


def test_refill_adds_rate_times_elapsed():
    # starter: 100/min is 5/3 tokens a second
    assert refill(0.0, 3.0, 150, 100 / 60) == pytest.approx(5.0)
    assert refill(10.0, 0.6, 150, 100 / 60) == pytest.approx(11.0)
    assert refill(7.5, 0.0, 150, 100 / 60) == 7.5


def test_refill_never_exceeds_capacity():
    assert refill(149.0, 3600.0, 150, 100 / 60) == 150
    assert refill(0.0, 1e9, 5, 0.5) == 5
    assert refill(5.0, 1.0, 5, 0.5) == 5


def test_refill_ignores_a_clock_that_went_backwards():
    assert refill(3.0, -10.0, 150, 100 / 60) == 3.0


def test_a_full_minute_refills_exactly_the_per_minute_limit():
    for limit in (100, 500, 2000, 30):
        assert refill(0.0, 60.0, 10_000, limit / 60) == pytest.approx(limit)


# --- decide -------------------------------------------------------------------------------


def test_decide_allows_and_takes_the_cost():
    assert decide(1.0, 1, 100 / 60) == (True, 0.0, 0)
    allowed, left, retry = decide(150.0, 1, 100 / 60)
    assert (allowed, left, retry) == (True, 149.0, 0)
    allowed, left, retry = decide(5.0, 5, 1.0)
    assert (allowed, left, retry) == (True, 0.0, 0)


def test_decide_refuses_without_taking_and_says_when_to_retry():
    # 100/min: one token takes 0.6 s, which rounds up to 1 whole second
    assert decide(0.0, 1, 100 / 60) == (False, 0.0, 1)
    # 1/min: one token takes a minute
    assert decide(0.0, 1, 1 / 60) == (False, 0.0, 60)
    # 30/min (0.5/s), 0.25 tokens there: 0.75 missing -> 1.5 s -> 2 s
    assert decide(0.25, 1, 0.5) == (False, 0.25, 2)
    # 6/min (0.1/s), 0.5 there, cost 3: 2.5 missing -> 25 s
    allowed, left, retry = decide(0.5, 3, 0.1)
    assert (allowed, left, retry) == (False, 0.5, 25)


def test_decide_retry_after_is_at_least_one_second_even_when_almost_there():
    allowed, left, retry = decide(0.999999, 1, 2000 / 60)
    assert not allowed
    assert left == 0.999999
    assert retry == 1
    assert isinstance(retry, int)


@settings(max_examples=300, deadline=None, database=None)
@given(
    tokens=st.floats(min_value=0, max_value=3000, allow_nan=False),
    cost=st.integers(min_value=1, max_value=50),
    limit=st.integers(min_value=1, max_value=5000),
)
def test_decide_retry_after_is_the_least_whole_wait_that_suffices(tokens, cost, limit):
    rate = limit / 60
    allowed, left, retry = decide(tokens, cost, rate)
    assert isinstance(retry, int)
    if allowed:
        assert tokens >= cost
        assert left == pytest.approx(tokens - cost)
        assert retry == 0
        return
    assert tokens < cost
    assert left == tokens  # a refusal takes nothing
    assert retry >= 1
    # waiting `retry` seconds is enough ...
    assert tokens + retry * rate >= cost - EPS
    # ... and one whole second less would not be (unless that is already under a second)
    if retry > 1:
        assert tokens + (retry - 1) * rate < cost + EPS


# --- plan_limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "expected"),
    [("starter", (100, 150)), ("growth", (500, 750)), ("pro", (2000, 3000))],
)
def test_plan_limits_of_the_fixed_plans(plan, expected):
    assert plan_limits(plan, None, None) == expected


@pytest.mark.parametrize("plan", ["starter", "growth", "pro"])
def test_fixed_plans_ignore_custom_numbers(plan):
    assert plan_limits(plan, 7, 9) == plan_limits(plan, None, None)


def test_enterprise_uses_its_own_numbers():
    assert plan_limits("enterprise", 30, 5) == (30, 5)
    assert plan_limits("enterprise", 10_000, 20_000) == (10_000, 20_000)


def test_enterprise_burst_defaults_to_the_limit():
    assert plan_limits("enterprise", 30, None) == (30, 30)
    assert plan_limits("enterprise", 2500, None) == (2500, 2500)


# --- MemoryStore buckets ------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "burst"), [(100, 150), (30, 5), (60, 1), (2000, 3000)])
async def test_a_fresh_bucket_allows_exactly_burst_immediate_takes(limit, burst):
    store = clocked_store(Clock())
    remaining = []
    for _ in range(burst):
        decision = await store.take("org:a", limit, burst)
        assert decision.allowed
        assert decision.limit == limit
        assert decision.retry_after == 0
        remaining.append(decision.remaining)
    assert remaining == list(range(burst - 1, -1, -1))
    refused = await store.take("org:a", limit, burst)
    assert not refused.allowed
    assert refused.limit == limit
    assert refused.remaining == 0
    assert refused.retry_after >= 1
    assert refused.retry_after == math.ceil(60 / limit)


async def test_a_refused_take_costs_nothing():
    clock = Clock()
    store = clocked_store(clock)
    for _ in range(5):
        assert (await store.take("k", 30, 5)).allowed
    for _ in range(20):
        assert not (await store.take("k", 30, 5)).allowed
    # 30/min refills one token every 2 s: refusals did not dig a hole
    clock.advance(2.0)
    assert (await store.take("k", 30, 5)).allowed
    assert not (await store.take("k", 30, 5)).allowed


async def test_waiting_retry_after_seconds_gets_a_token_back():
    clock = Clock()
    store = clocked_store(clock)
    for _ in range(5):
        await store.take("k", 6, 5)  # 6/min: a token every 10 s
    clock.advance(3.0)
    refused = await store.take("k", 6, 5)
    assert not refused.allowed
    assert refused.retry_after == 7
    clock.advance(refused.retry_after - 1)
    assert not (await store.take("k", 6, 5)).allowed
    clock.advance(1)
    assert (await store.take("k", 6, 5)).allowed


async def test_the_bucket_refills_at_limit_per_minute_and_no_further_than_burst():
    clock = Clock()
    store = clocked_store(clock)
    for _ in range(150):
        assert (await store.take("org:s", 100, 150)).allowed
    clock.advance(60.0)  # a minute refills 100 of the 150
    allowed = 0
    while (await store.take("org:s", 100, 150)).allowed:
        allowed += 1
    assert allowed == 100
    clock.advance(3600.0)  # an idle hour fills the bucket, but only to burst
    allowed = 0
    while (await store.take("org:s", 100, 150)).allowed:
        allowed += 1
    assert allowed == 150


async def test_cost_takes_several_tokens():
    store = clocked_store(Clock())
    first = await store.take("k", 60, 10, cost=4)
    assert (first.allowed, first.remaining) == (True, 6)
    second = await store.take("k", 60, 10, cost=4)
    assert (second.allowed, second.remaining) == (True, 2)
    third = await store.take("k", 60, 10, cost=4)
    assert not third.allowed
    assert third.remaining == 2
    assert third.retry_after == 2  # 2 tokens short at 1/s


async def test_keys_have_separate_buckets():
    store = clocked_store(Clock())
    for _ in range(3):
        assert (await store.take("org:a", 60, 3)).allowed
    assert not (await store.take("org:a", 60, 3)).allowed
    other = await store.take("org:b", 60, 3)
    assert other.allowed
    assert other.remaining == 2


@settings(max_examples=200, deadline=None, database=None)
@given(
    limit=st.integers(min_value=1, max_value=3000),
    burst=st.integers(min_value=1, max_value=300),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=120, allow_nan=False),
            st.integers(min_value=1, max_value=20),
        ),
        max_size=60,
    ),
)
async def test_tokens_stay_between_zero_and_burst_and_match_the_model(limit, burst, steps):
    clock = Clock()
    store = clocked_store(clock)
    rate = limit / 60
    model = float(burst)
    for elapsed, cost in steps:
        clock.advance(elapsed)
        decision = await store.take("k", limit, burst, cost)
        model = min(float(burst), model + elapsed * rate)
        assert 0 <= decision.remaining <= burst
        assert decision.limit == limit
        if decision.allowed:
            assert model >= cost - EPS
            model -= cost
            assert decision.retry_after == 0
        else:
            assert model < cost + EPS
            assert decision.retry_after >= 1
        assert abs(decision.remaining - model) < 1 + EPS


@settings(max_examples=300, deadline=None, database=None)
@given(
    tokens=st.floats(min_value=0, max_value=5000, allow_nan=False),
    capacity=st.integers(min_value=1, max_value=5000),
    limit=st.integers(min_value=1, max_value=5000),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=-5, max_value=600, allow_nan=False),
            st.integers(min_value=1, max_value=100),
        ),
        max_size=40,
    ),
)
def test_refill_then_decide_never_leaves_the_bucket_range(tokens, capacity, limit, steps):
    rate = limit / 60
    tokens = min(tokens, float(capacity))
    for elapsed, cost in steps:
        tokens = refill(tokens, elapsed, capacity, rate)
        assert 0 <= tokens <= capacity
        _, tokens, retry = decide(tokens, cost, rate)
        assert 0 <= tokens <= capacity
        assert retry >= 0


# --- MemoryStore login attempts (per-IP failure windows) ---------------------------------


async def fail(store, key: str, limit: int = 10) -> None:
    attempt = await store.attempt_begin(key, limit, 60)
    assert attempt.outcome == GO
    await store.attempt_end(key, failed=True, window_seconds=60)


async def test_failures_count_in_a_window_per_key():
    clock = Clock()
    store = clocked_store(clock)
    unknown = await store.window_count("login-failures:1.2.3.4")
    assert (unknown.count, unknown.retry_after) == (0, 0)
    for _ in range(10):
        await fail(store, "login-failures:1.2.3.4")
    state = await store.window_count("login-failures:1.2.3.4")
    assert (state.count, state.retry_after) == (10, 60)
    refused = await store.attempt_begin("login-failures:1.2.3.4", 10, 60)
    assert (refused.outcome, refused.retry_after) == (REFUSE, 60)
    # another key is its own window
    assert (await store.window_count("login-failures:5.6.7.8")).count == 0
    assert (await store.attempt_begin("login-failures:5.6.7.8", 10, 60)).outcome == GO


async def test_window_is_fixed_from_its_first_failure_and_then_expires():
    clock = Clock()
    store = clocked_store(clock)
    await fail(store, "w")
    clock.advance(30.0)
    await fail(store, "w")  # a later failure does not extend the window
    state = await store.window_count("w")
    assert (state.count, state.retry_after) == (2, 30)
    clock.advance(29.5)
    state = await store.window_count("w")
    assert (state.count, state.retry_after) == (2, 1)  # half a second left rounds up to 1
    clock.advance(0.5)  # exactly a minute after the first failure: gone
    expired = await store.window_count("w")
    assert (expired.count, expired.retry_after) == (0, 0)
    await fail(store, "w")
    fresh = await store.window_count("w")
    assert (fresh.count, fresh.retry_after) == (1, 60)


async def test_successes_leave_no_trace_and_attempts_in_flight_make_others_wait():
    clock = Clock()
    store = clocked_store(clock)
    for _ in range(3):
        assert (await store.attempt_begin("k", 3, 60)).outcome == GO
    assert (await store.attempt_begin("k", 3, 60)).outcome == WAIT
    await store.attempt_end("k", failed=False, window_seconds=60)
    assert (await store.attempt_begin("k", 3, 60)).outcome == GO
    for _ in range(3):
        await store.attempt_end("k", failed=False, window_seconds=60)
    assert (await store.window_count("k")).count == 0
    # two failures and one in flight fill a limit of 3: the next waits, it is not refused
    await fail(store, "k", limit=3)
    await fail(store, "k", limit=3)
    assert (await store.attempt_begin("k", 3, 60)).outcome == GO
    assert (await store.attempt_begin("k", 3, 60)).outcome == WAIT
    await store.attempt_end("k", failed=True, window_seconds=60)
    assert (await store.attempt_begin("k", 3, 60)).outcome == REFUSE


async def test_an_attempt_lost_in_flight_frees_its_place_after_a_window():
    clock = Clock()
    store = clocked_store(clock)
    assert (await store.attempt_begin("k", 1, 60)).outcome == GO  # never ended
    assert (await store.attempt_begin("k", 1, 60)).outcome == WAIT
    clock.advance(60.0)
    assert (await store.attempt_begin("k", 1, 60)).outcome == GO
