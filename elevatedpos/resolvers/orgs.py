"""me, locations, createLocation."""

from __future__ import annotations

import uuid

import strawberry

from elevatedpos.actions.orgs import new_location, update_location
from elevatedpos.db.models import Location as LocationRow
from elevatedpos.db.models import User as UserRow
from elevatedpos.db.pagination import keyset_page
from elevatedpos.db.scoping import org_rows, require_in_org
from elevatedpos.errors import NotFound
from elevatedpos.schema.context import Context, Info
from elevatedpos.schema.orgs import CreateLocationInput, Location, UpdateLocationInput, User
from elevatedpos.schema.pagination import Connection
from elevatedpos.schema.permissions import HasScope

# The User built from each cached row (kept while that row is the cached one): `me` is
# asked on every till's start-up and poll.
_USER_VIEWS: dict[uuid.UUID, tuple[UserRow, User]] = {}
_USER_VIEWS_SIZE = 10_000


def _user_view(row: UserRow) -> User:
    known = _USER_VIEWS.get(row.id)
    if known is not None and known[0] is row:
        return known[1]
    if len(_USER_VIEWS) >= _USER_VIEWS_SIZE:
        _USER_VIEWS.clear()
    view = User.from_row(row)
    _USER_VIEWS[row.id] = (row, view)
    return view


async def _load_me(ctx: Context) -> User:
    row = await ctx.runtime.user(ctx.auth.user_id, ctx.org_id)
    if row is None:
        raise NotFound("user not found")
    return _user_view(row)


@strawberry.type
class OrgsQuery:
    @strawberry.field(description="The user this token acts for")
    def me(self, info: Info) -> User:
        ctx = info.context
        row = ctx.runtime.cached_user(ctx.auth.user_id, ctx.org_id)
        if row is not None:
            return _user_view(row)  # answered without suspending: no task, no await
        return _load_me(ctx)  # type: ignore[return-value]  # awaitable; both executors await it

    @strawberry.field(
        description="The org's locations, by name", permission_classes=[HasScope("locations:read")]
    )
    async def locations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Location]:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            page = await keyset_page(
                session,
                org_rows(LocationRow, ctx.org_id),
                [LocationRow.__table__.c.name, LocationRow.__table__.c.id],
                first=first,
                after=after,
            )
        return Connection[Location].from_page(page, Location.from_row)

    @strawberry.field(
        description="One location by id", permission_classes=[HasScope("locations:read")]
    )
    async def location(self, info: Info, id: strawberry.ID) -> Location:
        ctx = info.context
        async with ctx.runtime.db.read() as session:
            row = await require_in_org(session, LocationRow, id, ctx.org_id, "location")
        return Location.from_row(row)


@strawberry.type
class OrgsMutation:
    @strawberry.mutation(
        description="Add a store location", permission_classes=[HasScope("locations:write")]
    )
    async def create_location(self, info: Info, input: CreateLocationInput) -> Location:
        ctx = info.context
        async with ctx.runtime.db.write() as session:
            location = new_location(session, ctx.org_id, input.name, input.timezone)
        return Location.from_row(location)

    @strawberry.mutation(
        description="Rename a location or change its time zone",
        permission_classes=[HasScope("locations:write")],
    )
    async def update_location(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateLocationInput,
        expected_version: int | None = None,
    ) -> Location:
        ctx = info.context
        async with ctx.runtime.db.write() as session:
            row = await require_in_org(session, LocationRow, id, ctx.org_id, "location", lock=True)
            await update_location(
                session,
                row,
                name=input.name,
                timezone=input.timezone,
                expected_version=expected_version,
            )
        return Location.from_row(row)
