"""Benchmark the product against a bare reference handler and print the ratios of issue 6.

    python bench/run.py [--backend sqlite|postgres] [--workers N] [--duration 10]
                        [--rounds 3] [--connections 16] [--only NAME,...]
                        [--workers-compare] [--json out.json] [--n1-test]

One run: a fresh database, a catalog of 500 products in 10 categories loaded through the real
actions, the product server (`elevatedpos serve`) and the reference server (bench/
reference_app.py) started as subprocesses, every endpoint checked for a real answer, then
measured one after the other, in interleaved rounds, with wrk (or a pure-Python driver when
wrk is missing).
See bench/README.md for what each line means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"  # the only address this script ever sends load to

PAGE_SIZE = 50
GRAPHQL_PAGE = (
    "query Page { products(first: 50) { edges { node { id name sku "
    "price { amount currency } category { name } } } } }"
)
N1_TEST = "tests/test_catalog.py::test_a_products_page_runs_a_fixed_number_of_statements"
ENDPOINTS = ("reference", "graphql", "rest", "same", "healthz", "healthz+auth", "me", "me-by-hand")
SCALE = "scale"
OWNER_EMAIL = "owner@bench.elevatedpos.local"  # --only name of the 1-worker / 2-worker comparison

# fmt: off
CATEGORIES: list[tuple[str, str, list[str]]] = [
    ("Coffee", "COF", ["Espresso", "Flat White", "Latte", "Long Black", "Mocha"]),
    ("Tea", "TEA", ["Chai", "Earl Grey", "Green Tea", "Matcha", "Peppermint Tea"]),
    ("Cold Drinks", "CLD", ["Cold Brew", "Iced Tea", "Lemonade", "Smoothie", "Sparkling Water"]),
    ("Bakery", "BAK", ["Croissant", "Danish", "Friand", "Muffin", "Scroll"]),
    ("Breakfast", "BRK", ["Bircher", "Eggs Benedict", "Granola", "Omelette", "Pancakes"]),
    ("Lunch", "LUN", ["Baguette", "Burger", "Salad", "Toastie", "Wrap"]),
    ("Desserts", "DES", ["Brownie", "Cheesecake", "Panna Cotta", "Tart", "Tiramisu"]),
    ("Snacks", "SNK", ["Bliss Ball", "Crisps", "Nut Mix", "Protein Bar", "Rice Cake"]),
    ("Retail Coffee", "RET", ["Beans 1kg", "Beans 250g", "Cold Brew Pack", "Drip Bags", "Pods"]),
    ("Pantry", "PAN", ["Chutney", "Honey", "Jam", "Olive Oil", "Sourdough Loaf"]),
]
STYLES = ["Almond", "Classic", "Double", "Golden", "House", "Organic", "Spiced", "Toasted",
          "Vanilla", "Wild"]
# fmt: on


# ---------------------------------------------------------------------------------------------
# results


@dataclass
class Result:
    name: str
    driver: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    non_2xx: int = 0
    socket_errors: int = 0
    workers: int = 0


@dataclass
class Target:
    name: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Catalog:
    org_id: str
    token: str
    category_names: set[str]
    category_ids: set[str]
    products: int
    load_seconds: float


# ---------------------------------------------------------------------------------------------
# database and catalog


def _pg_parts(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return {
        "user": u.username or "postgres",
        "password": u.password,
        "host": u.host or HOST,
        "port": u.port or 5432,
        "database": u.database or "bench",
    }


async def reset_postgres(url: str) -> None:
    """Empty the bench database (creating it when missing)."""
    import asyncpg

    parts = _pg_parts(url)
    try:
        conn = await asyncpg.connect(**parts)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(**{**parts, "database": "postgres"})
        try:
            await admin.execute(f'CREATE DATABASE "{parts["database"]}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(**parts)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def postgres_version(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(**_pg_parts(url))
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def load_catalog(env: dict[str, str]) -> Catalog:
    """Migrate, then one enterprise org, 10 categories, 500 products and an owner token."""
    from elevatedpos.actions.catalog import create_category, create_product
    from elevatedpos.actions.orgs import create_org
    from elevatedpos.auth.sessions import start_session
    from elevatedpos.db.migrate import upgrade_database
    from elevatedpos.runtime import Runtime
    from elevatedpos.schema.catalog import CreateCategoryInput, CreateProductInput
    from elevatedpos.schema.money import MoneyInput
    from elevatedpos.settings import Settings

    started = time.perf_counter()
    settings = Settings.from_env(env)
    await upgrade_database(settings.database_url)
    runtime = Runtime(Settings.from_env({**env, "REDIS_URL": ""}))
    await runtime.start()  # makes the JWT secret the server will read from the database
    try:
        db = runtime.db
        made = await create_org(
            db,
            name="Bench Roasters",
            email=OWNER_EMAIL,
            password="bench-password",
            plan="enterprise",
            rate_limit=10_000_000,
            burst=10_000_000,
        )
        org_id = made.org.id
        categories = []
        for position, (name, _, _) in enumerate(CATEGORIES):
            categories.append(
                await create_category(
                    db, org_id, CreateCategoryInput(name=name, sort_order=position)
                )
            )
        rng = random.Random(6)
        items = [
            (category, prefix, f"{style} {noun}", n * len(STYLES) + s)
            for category, (_, prefix, nouns) in zip(categories, CATEGORIES, strict=True)
            for n, noun in enumerate(nouns)
            for s, style in enumerate(STYLES)
        ]
        rng.shuffle(items)  # insertion order unrelated to name order

        async def make(item: tuple[Any, str, str, int]) -> None:
            category, prefix, name, number = item
            await create_product(
                db,
                org_id,
                CreateProductInput(
                    name=name,
                    sku=f"{prefix}-{number:03d}",
                    price=MoneyInput(amount=rng.randrange(250, 4500, 10)),
                    description=f"{name}, from the {category.name} range",
                    category_id=str(category.id),
                    track_inventory=number % 3 != 0,
                    reorder_point=5,
                ),
            )

        batch = 1 if db.is_sqlite else 20  # SQLite writes queue on one lock anyway
        for i in range(0, len(items), batch):
            await asyncio.gather(*(make(item) for item in items[i : i + batch]))
        token = (await start_session(runtime, made.owner)).access_token
    finally:
        await runtime.stop()
    return Catalog(
        org_id=str(org_id),
        token=token,
        category_names={c.name for c in categories},
        category_ids={str(c.id) for c in categories},
        products=len(items),
        load_seconds=time.perf_counter() - started,
    )


async def issue_token(env: dict[str, str]) -> str:
    """A fresh access token for the bench owner (access tokens live 15 minutes)."""
    from sqlalchemy import select

    from elevatedpos.auth.sessions import start_session
    from elevatedpos.db.models import User
    from elevatedpos.runtime import Runtime
    from elevatedpos.settings import Settings

    runtime = Runtime(Settings.from_env({**env, "REDIS_URL": ""}))
    await runtime.start()
    try:
        async with runtime.db.read() as session:
            owner = await session.scalar(select(User).where(User.email == OWNER_EMAIL))
        assert owner is not None
        return (await start_session(runtime, owner)).access_token
    finally:
        await runtime.stop()


# ---------------------------------------------------------------------------------------------
# servers


def rest_operation_request() -> dict[str, Any]:
    """The GraphQL request of the operation `GET /api/v1/products` runs, sent to /graphql."""
    from graphql import print_ast

    from elevatedpos.app import OPERATIONS

    document = print_ast(OPERATIONS["Products"].document)
    return {"query": document, "variables": {"first": PAGE_SIZE}, "operationName": "Products"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A subprocess in its own process group, stopped with SIGTERM, then SIGKILL."""

    def __init__(
        self, label: str, argv: list[str], env: dict[str, str], log: Path, ready_url: str
    ) -> None:
        self.label, self.argv, self.env, self.log_path, self.ready_url = (
            label,
            argv,
            env,
            log,
            ready_url,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0, workers: int = 0) -> None:
        """Until `ready_url` answers and (when `workers`) that many workers logged start-up."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, not it; we stop it in `finally`
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as r:
                    # One worker answering is not enough: one still starting would leave
                    # all of wrk's connections to the others.
                    if r.status == 200 and self._started_workers(offset) >= workers:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.label} not ready after {timeout:.0f}s:\n{self.tail()}")

    def _started_workers(self, offset: int) -> int:
        with self.log_path.open("rb") as f:
            f.seek(offset)
            return f.read().count(b"Application startup complete")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its own group: uvicorn's workers too
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def product_server(env: dict[str, str], port: int, workers: int, log: Path) -> Server:
    argv = [sys.executable, "-m", "elevatedpos.cli", "serve", "--host", HOST]
    argv += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    return Server(f"product server ({workers}w)", argv, env, log, f"http://{HOST}:{port}/readyz")


def handwritten_me_server(env: dict[str, str], port: int, log: Path) -> Server:
    """The product's app plus `GET /bench/me`, `me` written by hand (bench/handwritten_me.py),
    served as `elevatedpos serve` serves one worker (proxy headers on, no access log)."""
    argv = [sys.executable, "-m", "uvicorn", "handwritten_me:app", "--factory"]
    argv += ["--app-dir", str(BENCH_DIR), "--host", HOST, "--port", str(port)]
    argv += ["--proxy-headers", "--no-access-log", "--log-level", "warning"]
    return Server("me-by-hand server", argv, env, log, f"http://{HOST}:{port}/readyz")


def reference_server(
    env: dict[str, str], database_url: str, org_id: str, port: int, workers: int, log: Path
) -> Server:
    argv = [sys.executable, "-m", "uvicorn", "reference_app:app", "--app-dir", str(BENCH_DIR)]
    argv += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    argv += ["--no-access-log", "--log-level", "warning"]
    ref_env = {**env, "BENCH_DATABASE_URL": database_url, "BENCH_ORG_ID": org_id}
    return Server(
        "reference server",
        argv,
        ref_env,
        log,
        f"http://{HOST}:{port}/reference/products",
    )


# ---------------------------------------------------------------------------------------------
# checks before measuring


def fetch(target: Target) -> tuple[int, dict[str, str], Any]:
    data = target.body.encode() if target.body is not None else None
    request = urllib.request.Request(
        target.url, data=data, method=target.method, headers=target.headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            status, headers, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, dict(exc.headers), exc.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    return status, headers, body


def _expect(ok: bool, what: str, body: Any) -> None:
    if not ok:
        raise RuntimeError(f"check failed: {what}\n{json.dumps(body, indent=1)[:2000]}")


def verify(targets: dict[str, Target], catalog: Catalog) -> dict[str, list[str]]:
    """Each endpoint answers 200 with the real page; returns the page ids seen per endpoint."""
    pages: dict[str, list[str]] = {}
    for name, target in targets.items():
        status, headers, body = fetch(target)
        _expect(status == 200, f"{name} {target.method} {target.url} answered {status}", body)
        if name == "reference":
            rows = body["data"]
            _expect(len(rows) == PAGE_SIZE, "reference: 50 products", body)
            _expect(
                all(r["category"]["name"] in catalog.category_names for r in rows),
                "reference: every product has its category's name",
                body,
            )
            pages[name] = [r["id"] for r in rows]
        elif name == "graphql":
            _expect("errors" not in body, "graphql: no errors", body)
            nodes = [e["node"] for e in body["data"]["products"]["edges"]]
            _expect(len(nodes) == PAGE_SIZE, "graphql: 50 products", body)
            _expect(
                all((n["category"] or {}).get("name") in catalog.category_names for n in nodes),
                "graphql: every product has its category's name",
                body,
            )
            _expect(all(n["price"]["amount"] > 0 for n in nodes), "graphql: prices", body)
            pages[name] = [n["id"] for n in nodes]
        elif name == "same":
            _expect("errors" not in body, "same: no errors", body)
            nodes = body["data"]["products"]["nodes"]
            _expect(len(nodes) == PAGE_SIZE, "same: 50 products", body)
            pages[name] = [n["id"] for n in nodes]
        elif name == "rest":
            rows = body["data"]
            _expect(len(rows) == PAGE_SIZE, "rest: 50 products", body)
            # The REST shape carries categoryId, not the category's name.
            _expect(
                all(r["categoryId"] in catalog.category_ids for r in rows),
                "rest: every product has its category",
                body,
            )
            pages[name] = [r["id"] for r in rows]
        elif name in ("me", "healthz+auth", "me-by-hand"):
            charged = "x-ratelimit-limit" in {k.lower() for k in headers}
            _expect(charged, f"{name}: authenticated and charged", body)
    first = next(iter(pages.values()), None)
    for name, ids in pages.items():
        _expect(ids == first, f"{name} returns the same 50 products, in the same order", pages)
    return pages


# ---------------------------------------------------------------------------------------------
# load drivers

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def _lua_string(value: str) -> str:
    level = "="
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


def wrk_script(target: Target, directory: Path) -> Path:
    lines = [f'wrk.method = "{target.method}"']
    for key, value in target.headers.items():
        lines.append(f"wrk.headers[ {_lua_string(key)} ] = {_lua_string(value)}")
    if target.body is not None:
        lines.append(f"wrk.body = {_lua_string(target.body)}")
    path = directory / f"{target.name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def parse_wrk(output: str) -> dict[str, float]:
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+)", output, re.M)
    if not (rps and total and "50" in dist and "99" in dist):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(rps.group(1)),
        "p50": _ms(dist["50"]),
        "p99": _ms(dist["99"]),
        "requests": int(total.group(1)),
        "seconds": _ms(total.group(2) + total.group(3)) / 1000,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def run_wrk(target: Target, seconds: float, connections: int, scripts: Path) -> Result:
    script = wrk_script(target, scripts)
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    argv += ["--timeout", "10s", "-s", str(script), target.url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    p = parse_wrk(done.stdout)
    return Result(
        target.name,
        "wrk",
        p["rps"],
        p["p50"],
        p["p99"],
        int(p["requests"]),
        p["seconds"],
        int(p["non_2xx"]),
        int(p["socket_errors"]),
    )


def merge_rounds(parts: list[Result]) -> Result:
    """One endpoint's rounds as one result: every request over every measured second; p50
    and p99 are the median of the rounds' own (wrk gives percentiles, not its samples)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    requests = sum(r.requests for r in parts)
    seconds = sum(r.seconds for r in parts)
    return Result(
        first.name,
        first.driver,
        requests / seconds if seconds else 0.0,
        statistics.median(r.p50_ms for r in parts),
        statistics.median(r.p99_ms for r in parts),
        requests,
        seconds,
        sum(r.non_2xx for r in parts),
        sum(r.socket_errors for r in parts),
        first.workers,
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


async def _python_load(target: Target, seconds: float, connections: int) -> Result:
    import httpx

    latencies: list[float] = []
    errors = {"non_2xx": 0, "socket": 0}
    content = target.body.encode() if target.body is not None else None
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await client.request(
                        target.method, target.url, headers=target.headers, content=content
                    )
                    await r.aread()
                except httpx.HTTPError:
                    errors["socket"] += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if not 200 <= r.status_code < 400:
                    errors["non_2xx"] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        target.name,
        "python",
        len(latencies) / elapsed,
        _percentile(latencies, 0.50) * 1000,
        _percentile(latencies, 0.99) * 1000,
        len(latencies),
        elapsed,
        errors["non_2xx"],
        errors["socket"],
    )


def run_python(target: Target, seconds: float, connections: int, scripts: Path) -> Result:
    return asyncio.run(_python_load(target, seconds, connections))


Driver = Callable[[Target, float, int, Path], Result]


# ---------------------------------------------------------------------------------------------
# report


@dataclass
class Ratio:
    number: int
    title: str
    label: str
    value: float | None
    bar: float | None
    note: str = ""
    n1: str | None = None  # ratio 5: the test's outcome, when --n1-test ran it

    @property
    def verdict(self) -> str:
        if self.number == 5 and self.n1:
            return self.n1
        if self.value is None or self.bar is None:
            return "n/a"
        return "PASS" if self.value >= self.bar else "FAIL"


def ratios(results: dict[str, Result], backend: str, n1: str | None) -> list[Ratio]:
    def ratio(a: str, b: str) -> float | None:
        if a in results and b in results and results[b].rps > 0:
            return results[a].rps / results[b].rps
        return None

    limiter = "Redis limiter" if backend == "postgres" else "in-process limiter; bar is for Redis"
    scale_note = "" if backend == "postgres" else "bar is for PostgreSQL + Redis"
    if "graphql@1w" not in results:
        scale_note = "not measured: --workers-compare"
    return [
        Ratio(1, "GraphQL ahead of the reference", "graphql / reference",
              ratio("graphql", "reference"), 1.0),
        Ratio(2, "The bridge costs nothing", "rest / graphql", ratio("rest", "graphql"), 0.9),
        Ratio(2, "  (the bridge alone)", "rest / same operation on /graphql",
              ratio("rest", "same"), None, "informational: the same 16 fields at both doors"),
        Ratio(3, "Auth and rate limiting are cheap", "me / healthz", ratio("me", "healthz"),
              0.8, limiter),
        Ratio(3, "  (auth + limiter alone)", "healthz with the token / healthz",
              ratio("healthz+auth", "healthz"), None,
              "informational: the same answer, authenticated and charged"),
        Ratio(3, "  (me without the bridge)", "me written by hand / healthz",
              ratio("me-by-hand", "healthz"), None,
              "informational: me's answer with no GraphQL, bench/handwritten_me.py"),
        Ratio(4, "Scale out (graphql page)", "2 workers / 1 worker",
              ratio("graphql@2w", "graphql@1w"), 1.3, scale_note),
        Ratio(5, "No N+1", "statements at 10 = at 100 items", None, None, n1=n1, note=
              f"{N1_TEST}" + ("" if n1 else "; --n1-test runs it")),
    ]  # fmt: skip


def print_report(
    info: dict[str, Any], results: dict[str, Result], rows: list[Ratio], problems: list[str]
) -> None:
    print()
    print("machine  " + "  ".join(f"{k}={v!r}" if " " in str(v) else f"{k}={v}"
                                  for k, v in info.items()))  # fmt: skip
    print()
    print(f"{'name':<14}{'workers':>8}{'req/s':>11}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'requests':>10}{'errors':>8}")  # fmt: skip
    for r in results.values():
        errors = r.non_2xx + r.socket_errors
        print(
            f"{r.name:<14}{r.workers:>8}{r.rps:>11.1f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
            f"{r.requests:>10}{errors:>8}"
        )
    print()
    for q in rows:
        value = f"{q.value:6.2f}" if q.value is not None else "     -"
        bar = f">= {q.bar:.2f}" if q.bar is not None else "       "
        note = f"  ({q.note})" if q.note else ""
        print(f"{q.number}. {q.title:<34}{q.label:<34}{value}  {bar}  {q.verdict:<5}{note}")
    if problems:
        print()
        for p in problems:
            print(f"problem: {p}")


# ---------------------------------------------------------------------------------------------
# main


def busy_percent(seconds: float = 1.0) -> float | None:
    """How busy the CPUs are (all processes), sampled from /proc/stat for `seconds`."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


def machine_info(
    args: argparse.Namespace, driver: str, db_version: str, busy: list[float | None]
) -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    commit = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "backend": args.backend + (f" {db_version}" if db_version else ""),
        "redis": "on" if args.backend == "postgres" else "off",
        "workers": args.workers,
        "duration": f"{args.duration:g}s",
        "rounds": args.rounds,
        "warmup": f"{args.warmup:g}s",
        "connections": args.connections,
        "driver": driver,
        "commit": commit or "?",
        "busy_before_after": "/".join("?" if b is None else f"{b:.0f}%" for b in busy),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--workers", type=int, default=1, help="workers of both servers")
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint")
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure the endpoints in this many interleaved rounds (duration split over them)",
    )
    p.add_argument("--connections", type=int, default=16)
    p.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of {','.join(ENDPOINTS)},{SCALE}",
    )
    p.add_argument(
        "--workers-compare",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure the graphql page on 1 and on 2 workers (default: on for postgres)",
    )
    p.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="the bench database (emptied!)")
    p.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument("--n1-test", action="store_true", help=f"run {N1_TEST} for ratio 5")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    args = p.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {*ENDPOINTS, SCALE}
    if unknown:
        p.error(f"--only: unknown {', '.join(sorted(unknown))}")
    if args.workers < 1 or args.connections < 1 or args.duration <= 0 or args.rounds < 1:
        p.error("--workers, --connections, --duration and --rounds must be positive")
    args.endpoints = [n for n in ENDPOINTS if not wanted or n in wanted]
    if args.workers_compare is None:  # auto: on for postgres when no --only narrows the run
        args.scale = SCALE in wanted or (args.backend == "postgres" and not wanted)
    else:
        args.scale = args.workers_compare or SCALE in wanted
    return args


def server_log_problems(paths: list[Path]) -> list[str]:
    """Tracebacks in the servers' logs, telling client disconnects apart from the rest."""
    found = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        blocks = text.split("Traceback (most recent call last):")[1:]
        if not blocks:
            continue
        last_lines = [
            next((ln for ln in b.splitlines() if ln and not ln.startswith(" ")), "?")
            for b in blocks
        ]
        kinds: dict[str, int] = {}
        for line in last_lines:
            kinds[line.strip()] = kinds.get(line.strip(), 0) + 1
        summary = "; ".join(f"{n} x {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
        found.append(f"{path.name}: {len(blocks)} tracebacks logged ({summary})")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.driver == "auto":
        args.driver = "wrk" if shutil.which("wrk") else "python"
    if args.driver == "wrk" and not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    drive: Driver = run_wrk if args.driver == "wrk" else run_python
    driver_name = (
        f"wrk -t1 -c{args.connections}"
        if args.driver == "wrk"
        else f"python httpx, {args.connections} tasks"
    )
    slow = " (no wrk: a slower load generator sharing the CPU; expect lower numbers)"
    print(f"driver: {driver_name}" + ("" if args.driver == "wrk" else slow))

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started in the background (SIGINT ignored)
    work = Path(tempfile.mkdtemp(prefix="elevatedpos-bench-"))
    servers: list[Server] = []
    results: dict[str, Result] = {}
    problems: list[str] = []
    logs: list[Path] = []
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        db_version = ""
        if args.backend == "sqlite":
            database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
            db_version = __import__("sqlite3").sqlite_version
        else:
            database_url = args.pg_url
            asyncio.run(reset_postgres(database_url))
            db_version = asyncio.run(postgres_version(database_url))
            env["REDIS_URL"] = args.redis_url
        env["DATABASE_URL"] = database_url
        env.setdefault("PYTHONUNBUFFERED", "1")

        busy = [busy_percent()]
        print(f"loading the catalog into {args.backend} ...", flush=True)
        catalog = asyncio.run(load_catalog(env))
        print(
            f"  {catalog.products} products in {len(catalog.category_ids)} categories,"
            f" {catalog.load_seconds:.1f}s",
            flush=True,
        )

        product_port, reference_port = free_port(), free_port()
        product_log, reference_log = work / "product.log", work / "reference.log"
        logs += [product_log, reference_log]
        product = product_server(env, product_port, args.workers, product_log)
        servers.append(product)
        product.start(workers=args.workers)
        if "reference" in args.endpoints:
            reference = reference_server(
                env, database_url, catalog.org_id, reference_port, args.workers, reference_log
            )
            servers.append(reference)
            reference.start()
        by_hand_port = free_port()
        if "me-by-hand" in args.endpoints:
            by_hand_log = work / "me-by-hand.log"
            logs.append(by_hand_log)
            by_hand = handwritten_me_server(env, by_hand_port, by_hand_log)
            servers.append(by_hand)
            by_hand.start()
        print(f"servers up: product pid {product.pid} :{product_port}", flush=True)

        auth = {"Authorization": f"Bearer {catalog.token}"}
        base = f"http://{HOST}:{product_port}"
        all_targets = {
            "reference": Target("reference", f"http://{HOST}:{reference_port}/reference/products"),
            "graphql": Target(
                "graphql",
                f"{base}/graphql",
                "POST",
                {**auth, "Content-Type": "application/json"},
                json.dumps({"query": GRAPHQL_PAGE}),
            ),
            "rest": Target("rest", f"{base}/api/v1/products?limit={PAGE_SIZE}", headers=auth),
            "same": Target(
                "same",
                f"{base}/graphql",
                "POST",
                {**auth, "Content-Type": "application/json"},
                json.dumps(rest_operation_request()),
            ),
            "healthz": Target("healthz", f"{base}/healthz"),
            # The same answer, but with the bearer token: authenticated and charged like any
            # request, so this alone is what auth and the limiter cost.
            "healthz+auth": Target("healthz+auth", f"{base}/healthz", headers=auth),
            "me": Target("me", f"{base}/api/v1/auth/me", headers=auth),
            # Another server of the same app with one more route: me's answer by hand. Its
            # own worker, measured in turn with the others (only one is loaded at a time).
            "me-by-hand": Target(
                "me-by-hand", f"http://{HOST}:{by_hand_port}/bench/me", headers=auth
            ),
        }
        targets = {n: all_targets[n] for n in args.endpoints}
        if args.scale and "graphql" not in targets:
            targets["graphql"] = all_targets["graphql"]
        verify(targets, catalog)
        print("checked: every endpoint answers 200 with the same 50 products", flush=True)

        def measure(target: Target, key: str, workers: int, seconds: float, warm: bool) -> Result:
            if "Authorization" in target.headers:  # never let the token expire mid-run
                target.headers["Authorization"] = f"Bearer {asyncio.run(issue_token(env))}"
            if warm:
                drive(target, args.warmup, args.connections, work)
            result = drive(target, seconds, args.connections, work)
            result.name, result.workers = key, workers
            return result

        def record(key: str, parts: list[Result]) -> None:
            result = results[key] = merge_rounds(parts)
            each = f"  (rounds: {', '.join(f'{r.rps:.0f}' for r in parts)})"
            print(
                f"  {key:<12} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} ms"
                f"  p99 {result.p99_ms:7.2f} ms" + (each if len(parts) > 1 else ""),
                flush=True,
            )
            if result.non_2xx or result.socket_errors:
                problems.append(
                    f"{key}: {result.non_2xx} non-2xx answers and"
                    f" {result.socket_errors} socket errors under load"
                )

        # Rounds interleave the endpoints (a b c, a b c, ...), so a slow spell of the
        # machine falls on all of them alike instead of on whichever ran then.
        rounds: dict[str, list[Result]] = {name: [] for name in args.endpoints}
        for index in range(args.rounds):
            if args.rounds > 1:
                print(f"round {index + 1} of {args.rounds}", flush=True)
            for name in args.endpoints:
                part = measure(
                    targets[name], name, args.workers, args.duration / args.rounds, index == 0
                )
                rounds[name].append(part)
        for name in args.endpoints:
            record(name, rounds[name])

        if args.scale:
            print("scale-out: the graphql page on 1 and on 2 workers", flush=True)
            current = args.workers
            for workers in (1, 2):
                if current != workers:
                    product.stop()
                    product = product_server(env, product_port, workers, product_log)
                    servers.append(product)
                    product.start(workers=workers)
                    current = workers
                    verify({"graphql": targets["graphql"]}, catalog)
                key = f"graphql@{workers}w"
                record(key, [measure(targets["graphql"], key, workers, args.duration, True)])

        n1 = None
        if args.n1_test:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", N1_TEST],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            n1 = "PASS" if done.returncode == 0 else "FAIL"
            if done.returncode != 0:
                problems.append(f"{N1_TEST} failed:\n{done.stdout[-2000:]}")

        for server in servers:
            server.stop()
        problems += server_log_problems(logs)
        busy.append(busy_percent())
        if any(b is not None and b > 15 for b in busy):
            problems.append(
                "other processes kept the CPUs busy before/after the run"
                f" ({'/'.join('?' if b is None else f'{b:.0f}%' for b in busy)}):"
                " the numbers are low and noisy; run again on a quiet machine"
            )
        info = machine_info(args, driver_name, db_version, busy)
        rows = ratios(results, args.backend, n1)
        print_report(info, results, rows, problems)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "machine": info,
                        "results": [asdict(r) for r in results.values()],
                        "ratios": [{**asdict(q), "verdict": q.verdict} for q in rows],
                        "catalogLoadSeconds": round(catalog.load_seconds, 2),
                        "problems": problems,
                    },
                    indent=2,
                )
                + "\n"
            )
            print(f"\nwrote {args.json}")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - report it with the servers' logs, then clean up
        print(f"\nerror: {exc}", file=sys.stderr)
        for path in dict.fromkeys(s.log_path for s in servers):
            tail = "\n".join(path.read_text(errors="replace").splitlines()[-40:])
            print(f"--- {path.name} (tail) ---\n{tail}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"could not stop {server.label}: {exc}", file=sys.stderr)
        if args.keep_logs:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
