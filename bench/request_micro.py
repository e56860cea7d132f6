"""Micro-benchmark: what one request costs the server, through uvicorn's own HTTP protocol.

    python bench/request_micro.py [--backend sqlite|postgres] [--requests 20000] [--profile me]

In-process and without sockets: uvicorn's httptools protocol (the one `elevatedpos serve`
runs, with proxy headers on and no access log) is given a fake transport and fed the raw
bytes of a keep-alive request; a request is done when its answer has been written. So the
figure is the server's CPU per request (HTTP parsing, the ASGI app, writing the answer),
without the load generator, the kernel or the network, and it repeats within a few per cent
from run to run, where `bench/run.py` scatters by ±10 %. It is for finding where ratio 3's
time goes and for checking a change before the full benchmark; `bench/run.py` stays the
measure of record.

Lines: `healthz`, `healthz+auth` (the same, with the bearer token: authenticated and
charged), `me` (GET /api/v1/auth/me) and `me (by hand)` (the same answer from a handler
written by hand, added to this benchmark's app only: no GraphQL, no bridge), best of 5
rounds each, interleaved; then the ratios `run.py` prints for them, and the hand-written
one's. `--backend postgres` uses the database `prof` on
127.0.0.1:5432 (recreated) and Redis database 12, as ratio 3 asks (Redis limiter on).
`--profile NAME` runs cProfile over that line afterwards and prints the 40 costliest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwritten_me  # `me` written by hand, from this directory

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/prof"
REDIS_URL = "redis://127.0.0.1:6379/12"
TARGETS = {"healthz": ("/healthz", False), "healthz+auth": ("/healthz", True)}
TARGETS["me"] = ("/api/v1/auth/me", True)
# `me`'s answer written by hand (no GraphQL): only in this benchmark's app, to show what
# ratio 3 leaves for the bridge once authentication and the limiter have run.
TARGETS["me (by hand)"] = (handwritten_me.PATH, True)


class Transport:
    """What uvicorn's protocol writes to and asks of a socket transport."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.done: asyncio.Future[None] | None = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written.append(data)
        # uvicorn writes the status line and headers, then the body: done at the body.
        if len(self.written) >= 2 and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def set_protocol(self, protocol: Any) -> None: ...


async def prepare(backend: str, directory: str) -> tuple[dict[str, str], str]:
    """A migrated database with one enterprise org; its settings and an owner token."""
    from elevatedpos.actions.orgs import create_org
    from elevatedpos.auth.sessions import start_session
    from elevatedpos.db.migrate import upgrade_database
    from elevatedpos.runtime import Runtime
    from elevatedpos.settings import Settings

    if backend == "postgres":
        import asyncpg
        import redis.asyncio as redis

        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute("DROP DATABASE IF EXISTS prof WITH (FORCE)")
            await conn.execute("CREATE DATABASE prof")
        finally:
            await conn.close()
        client = redis.Redis.from_url(REDIS_URL)
        await client.flushdb()
        await client.aclose()
        env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL}
    else:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{directory}/micro.db", "REDIS_URL": ""}
    await upgrade_database(env["DATABASE_URL"])
    runtime = Runtime(Settings.from_env({**env, "REDIS_URL": ""}))
    await runtime.start()
    try:
        made = await create_org(
            runtime.db,
            name="Micro Roasters",
            email="micro@example.com",
            password="micro-password",
            plan="enterprise",
            rate_limit=10_000_000,
            burst=10_000_000,
        )
        token = (await start_session(runtime, made.owner)).access_token
    finally:
        await runtime.stop()
    return env, token


def raw_request(path: str, token: str | None) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: micro\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return (head + "\r\n").encode()


async def measure(args: argparse.Namespace) -> int:
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    from elevatedpos.app import create_app
    from elevatedpos.settings import Settings

    with tempfile.TemporaryDirectory() as directory:
        env, token = await prepare(args.backend, directory)
        app = create_app(Settings.from_env(env))
        runtime = app.state.runtime
        handwritten_me.add_handwritten_me(app, runtime)
        await runtime.start()
        try:
            config = Config(app, proxy_headers=True, access_log=False, lifespan="off")
            config.load()
            transport = Transport()
            protocol = HttpToolsProtocol(config, ServerState(), {})
            protocol.connection_made(transport)  # type: ignore[arg-type]
            loop = asyncio.get_running_loop()
            requests = {
                name: raw_request(path, token if auth else None)
                for name, (path, auth) in TARGETS.items()
            }

            async def one(raw: bytes) -> None:
                transport.written.clear()
                transport.done = loop.create_future()
                protocol.data_received(raw)
                await transport.done

            for name, raw in requests.items():
                await one(raw)
                status = transport.written[0].split(b"\r\n", 1)[0]
                if not status.endswith(b" 200 OK"):
                    print(f"{name}: {status.decode()}", file=sys.stderr)
                    return 1
            best = dict.fromkeys(requests, float("inf"))
            for _ in range(5):
                for name, raw in requests.items():
                    started = time.perf_counter()
                    for _ in range(args.requests):
                        await one(raw)
                    per = (time.perf_counter() - started) / args.requests * 1e6
                    best[name] = min(best[name], per)
            print(
                f"backend={args.backend} loop={type(loop).__module__.split('.')[0]} "
                f"requests={args.requests} x 5 rounds, best round"
            )
            for name, us in best.items():
                print(f"  {name:<14}{us:8.2f} µs/request")
            base = best["healthz"]
            print(f"  me / healthz            {base / best['me']:.2f}  (bar 0.80)")
            print(f"  healthz+auth / healthz  {base / best['healthz+auth']:.2f}")
            print(f"  me by hand / healthz    {base / best['me (by hand)']:.2f}")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.requests):
                    await one(requests[args.profile])
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        finally:
            await runtime.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", choices=tuple(TARGETS))
    args = parser.parse_args()
    try:  # the loop `elevatedpos serve` runs on (uvicorn picks uvloop when it is installed)
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(measure(args))


if __name__ == "__main__":
    sys.exit(main())
