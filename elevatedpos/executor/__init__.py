"""A compiled executor: validated operations become plans that graphql-core's `execute` matches.

`ELEVATEDPOS_EXECUTOR=graphql-core` in the environment turns it off (graphql-core runs
everything), for debugging a suspected difference.
"""

from __future__ import annotations

from elevatedpos.executor.cache import (
    COMPILED_EXECUTOR,
    PLANS,
    VALIDATED,
    PlanCache,
    ValidatedDocuments,
    execute_document,
)
from elevatedpos.executor.operation import OperationPlan, compile_operation

__all__ = [
    "COMPILED_EXECUTOR",
    "PLANS",
    "VALIDATED",
    "OperationPlan",
    "PlanCache",
    "ValidatedDocuments",
    "compile_operation",
    "execute_document",
]
