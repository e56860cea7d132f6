"""Relay connections: `edges { cursor node }`, `nodes`, `pageInfo { hasNextPage endCursor }`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    @classmethod
    def lazy(cls, node: T, cursors: Sequence[str], index: int) -> Edge[T]:
        """An edge whose cursor is encoded only if something reads it."""
        edge = cls.__new__(cls)
        edge.__dict__.update(node=node, _cursor_at=(cursors, index))
        return edge


class _LazyCursor:
    """`Edge.cursor` of a lazy edge: encoded on first read, then an ordinary attribute.

    A non-data descriptor: an edge made with its cursor keeps it in its `__dict__`, which
    wins, so this only runs for edges from `Edge.lazy`.
    """

    def __get__(self, edge: Any, owner: Any = None) -> Any:
        if edge is None:
            raise AttributeError("cursor")
        cursors, index = edge.__dict__["_cursor_at"]
        cursor = edge.__dict__["cursor"] = cursors[index]
        return cursor


Edge.cursor = _LazyCursor()  # type: ignore[assignment]  # after the dataclass is made


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    nodes: list[T] = strawberry.field(
        description="The nodes of `edges`, for clients that need no cursors"
    )

    @classmethod
    def from_page(cls, page: Page[Any], to_node: Callable[[Any], T]) -> Connection[T]:
        """A connection whose edges are made only if something reads them (REST reads
        `nodes`), each with its cursor encoded only if something reads that."""
        connection = cls.__new__(cls)
        connection.__dict__.update(
            nodes=[to_node(item) for item in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            _cursors=page.cursors,
        )
        return connection


class _LazyEdges:
    """`Connection.edges` of a connection from `from_page`: made on first read, then an
    ordinary attribute (a non-data descriptor: a connection made with edges keeps them)."""

    def __get__(self, connection: Any, owner: Any = None) -> Any:
        if connection is None:
            raise AttributeError("edges")
        state = connection.__dict__
        nodes, cursors = state["nodes"], state["_cursors"]
        if isinstance(cursors, list):
            edges = [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
        else:  # encoded on demand: most pages are read without their edges' cursors
            edges = [Edge.lazy(n, cursors, i) for i, n in enumerate(nodes)]
        state["edges"] = edges
        return edges


Connection.edges = _LazyEdges()  # type: ignore[assignment]  # after the dataclass is made
