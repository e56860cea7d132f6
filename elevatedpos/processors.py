"""Payment processors: one small interface, two built in.

- `cash`: the money is in the drawer; every payment is approved and captured at once.
- `simulated`: a card processor for development and tests. An amount ending in 13 cents is
  declined; everything else is approved. Authorize, capture (of up to the authorized amount),
  void and refund behave as a real acquirer's would, without leaving the process.

A real processor implements the same four calls. They are awaited inside the database
transaction that records their outcome, so a processor must answer quickly and treat
`reference` as an idempotency key of its own (a retried call must not charge twice).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outcome:
    approved: bool
    reference: str | None = None
    reason: str | None = None


class Processor(Protocol):
    name: str

    async def authorize(self, amount: int, currency: str) -> Outcome: ...

    async def capture(self, reference: str, amount: int) -> Outcome: ...

    async def void(self, reference: str) -> Outcome: ...

    async def refund(self, reference: str, amount: int) -> Outcome: ...


class _InProcess:
    """Capture, void and refund as an in-process processor does them: always approved."""

    async def capture(self, reference: str, amount: int) -> Outcome:
        return Outcome(True, reference)

    async def void(self, reference: str) -> Outcome:
        return Outcome(True, reference)

    async def refund(self, reference: str, amount: int) -> Outcome:
        return Outcome(True, reference)


class CashProcessor(_InProcess):
    name = "cash"

    async def authorize(self, amount: int, currency: str) -> Outcome:
        return Outcome(True, f"cash_{uuid.uuid4().hex}")


class SimulatedCardProcessor(_InProcess):
    name = "simulated"
    DECLINE_CENTS = 13

    async def authorize(self, amount: int, currency: str) -> Outcome:
        if amount % 100 == self.DECLINE_CENTS:
            return Outcome(False, None, "card_declined")
        return Outcome(True, f"sim_{uuid.uuid4().hex}")


PROCESSORS: dict[str, Processor] = {
    "cash": CashProcessor(),
    "simulated": SimulatedCardProcessor(),
}


@dataclass(frozen=True)
class MethodConfig:
    id: str
    name: str
    type: str  # "cash" | "card"
    processor: str
    enabled: bool = True


# What an org has until it configures its own rows in `payment_methods`.
DEFAULT_METHODS = (
    MethodConfig("cash", "Cash", "cash", "cash"),
    MethodConfig("card", "Card", "card", "simulated"),
)


def processor(name: str) -> Processor:
    return PROCESSORS[name]
