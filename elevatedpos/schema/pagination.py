"""Relay connections: `edges { cursor node }`, `nodes`, `pageInfo { hasNextPage endCursor }`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from elevatedpos.db.pagination import Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    nodes: list[T] = strawberry.field(
        description="The nodes of `edges`, for clients that need no cursors"
    )

    @classmethod
    def from_page(cls, page: Page[Any], to_node: Callable[[Any], T]) -> Connection[T]:
        nodes = [to_node(item) for item in page.items]
        return cls(
            edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, page.cursors, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            nodes=nodes,
        )
