"""The Node interface: every resource with an id, looked up by `node(id:)`."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="A resource with a UUID, the same id as in REST and webhooks")
class Node:
    id: strawberry.ID
