"""The `elevatedpos` command: serve, migrate, create-org, create-user, seed-demo, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from elevatedpos.db.migrate import upgrade_database
from elevatedpos.errors import DomainError
from elevatedpos.ratelimit import PLANS
from elevatedpos.settings import Settings

SCHEMA_FILE = "schema.graphql"


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def _run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _with_db(settings: Settings, action: Callable[[Any], Awaitable[Any]]) -> Any:
    from elevatedpos.db.engine import Database

    await upgrade_database(settings.database_url)
    db = Database(settings.database_url)
    try:
        return await action(db)
    finally:
        await db.dispose()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    _run(upgrade_database(settings.database_url))
    _emit({"migrated": True, "database": settings.database_url.split("@")[-1]})
    return 0


def cmd_create_org(args: argparse.Namespace, settings: Settings) -> int:
    from elevatedpos.actions.orgs import create_org

    async def action(db: Any) -> Any:
        return await create_org(
            db,
            name=args.name,
            email=args.email,
            password=args.password,
            plan=args.plan,
            rate_limit=args.rate_limit,
            burst=args.burst,
        )

    made = _run(_with_db(settings, action))
    _emit(
        {
            "orgId": str(made.org.id),
            "userId": str(made.owner.id),
            "locationId": str(made.location.id),
        }
    )
    return 0


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from elevatedpos.actions.orgs import create_user

    try:
        org_id = uuid.UUID(args.org)
    except ValueError:
        print("error: --org must be an org id (UUID)", file=sys.stderr)
        return 2

    async def action(db: Any) -> Any:
        return await create_user(
            db, org_id=org_id, email=args.email, password=args.password, role=args.role
        )

    user = _run(_with_db(settings, action))
    _emit({"userId": str(user.id)})
    return 0


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from elevatedpos.demo import seed_demo

    _emit(_run(_with_db(settings, seed_demo)))
    return 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from elevatedpos.schema.root import schema

    sdl = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        _emit({"written": args.output})
    return 0


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["elevatedpos"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from elevatedpos.web.listeners import reuse_port_supported

    _run(upgrade_database(settings.database_url))
    if args.demo:
        cmd_seed_demo(args, settings)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_config": _log_config(),
        "proxy_headers": True,
        "access_log": not args.no_access_log,
    }
    if args.workers < 2 or not reuse_port_supported():
        uvicorn.run("elevatedpos.app:serve_app", **options)
        return 0
    return _serve_workers(uvicorn.Config("elevatedpos.app:serve_app", **options))


def _serve_workers(config: Any) -> int:
    """uvicorn's supervisor, each worker on its own SO_REUSEPORT socket (web/listeners.py)."""
    import logging

    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from elevatedpos.web.listeners import ReusePortListener

    listener = ReusePortListener(config.host, config.port)
    try:
        listener.check()
    except OSError as exc:
        print(f"cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d with %d workers, each on its own socket"
        " (Press CTRL+C to quit)",
        config.host,
        config.port,
        config.workers,
    )
    supervisor = Multiprocess(config, sockets=[listener])  # type: ignore[list-item]
    try:
        supervisor.run()
    except KeyboardInterrupt:
        pass
    # uvicorn's supervisor stops, and returns as if asked to, when a worker fails to start
    # (its app, lifespan or socket): say so with uvicorn's own exit status, for the service
    # manager to see.
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        print("a worker failed to start; see the log above", file=sys.stderr)
        return STARTUP_FAILURE
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="elevatedpos", description="ElevatedPOS API server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve REST, GraphQL and docs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load the demo org first")
    serve.add_argument("--no-access-log", action="store_true")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)

    org = sub.add_parser("create-org", help="create an org, its first location and its owner")
    org.add_argument("--name", required=True)
    org.add_argument("--email", required=True)
    org.add_argument("--password", required=True)
    org.add_argument("--plan", choices=PLANS, default="starter")
    org.add_argument("--rate-limit", type=int, default=None, help="requests/minute (enterprise)")
    org.add_argument("--burst", type=int, default=None, help="bucket size (enterprise)")
    org.set_defaults(func=cmd_create_org)

    user = sub.add_parser("create-user", help="add a user to an org")
    user.add_argument("--org", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", choices=["owner", "admin", "manager", "staff"], default="staff")
    user.set_defaults(func=cmd_create_user)

    sub.add_parser("seed-demo", help="load the demo org and print its login").set_defaults(
        func=cmd_seed_demo
    )

    export = sub.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", "-o", default=SCHEMA_FILE, help="file, or - for stdout")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return int(args.func(args, settings))
    except DomainError as exc:
        detail = "; ".join(e.message for e in exc.errors) or exc.detail
        print(f"error: {detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
