"""The `elevatedpos` command, run as a user runs it: a subprocess with DATABASE_URL set."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from elevatedpos.db.models import Base
from elevatedpos.demo import DEMO_EMAIL, DEMO_PASSWORD
from elevatedpos.schema.root import schema

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, database_url: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "elevatedpos.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def one_json_line(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return json.loads(lines[0])


async def test_create_org_then_login(database_url, client):
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    made = one_json_line(
        run_cli(
            "create-org",
            "--name",
            "CLI Café",
            "--email",
            email,
            "--password",
            "cli-password-1",
            database_url=database_url,
        ).stdout
    )
    assert set(made) == {"orgId", "userId", "locationId"}
    login = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "cli-password-1"}
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["orgId"] == made["orgId"]
    assert login.json()["data"]["user"]["role"] == "owner"
    token = login.json()["data"]["accessToken"]
    locations = await client.get("/api/v1/locations", headers={"Authorization": f"Bearer {token}"})
    assert [loc["id"] for loc in locations.json()["data"]] == [made["locationId"]]
    assert locations.headers["x-ratelimit-limit"] == "100"  # starter by default

    staff_email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    user = one_json_line(
        run_cli(
            "create-user",
            "--org",
            made["orgId"],
            "--email",
            staff_email,
            "--password",
            "cli-password-2",
            "--role",
            "staff",
            database_url=database_url,
        ).stdout
    )
    staff = await client.post(
        "/api/v1/auth/login", json={"email": staff_email, "password": "cli-password-2"}
    )
    assert staff.json()["data"]["user"] == {
        "id": user["userId"],
        "email": staff_email,
        "orgId": made["orgId"],
        "name": staff_email.split("@")[0],
        "role": "staff",
    }


async def test_enterprise_org_gets_its_own_limits(database_url, client):
    email = f"ent-{uuid.uuid4().hex[:8]}@example.com"
    run_cli(
        "create-org",
        "--name",
        "Big Co",
        "--email",
        email,
        "--password",
        "cli-password-1",
        "--plan",
        "enterprise",
        "--rate-limit",
        "12000",
        "--burst",
        "15000",
        database_url=database_url,
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "cli-password-1"}
    )
    token = login.json()["data"]["accessToken"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.headers["x-ratelimit-limit"] == "12000"
    assert int(me.headers["x-ratelimit-remaining"]) == 14999


def test_cli_refuses_bad_input_without_a_traceback(database_url):
    no_limit = run_cli(
        "create-org",
        "--name",
        "X",
        "--email",
        "x@example.com",
        "--password",
        "long-enough-1",
        "--plan",
        "enterprise",
        database_url=database_url,
        check=False,
    )
    assert no_limit.returncode == 1
    assert "rate limit" in no_limit.stderr and "Traceback" not in no_limit.stderr
    short = run_cli(
        "create-org",
        "--name",
        "X",
        "--email",
        "x@example.com",
        "--password",
        "short",
        database_url=database_url,
        check=False,
    )
    assert short.returncode == 1 and "password" in short.stderr
    bad_org = run_cli(
        "create-user",
        "--org",
        str(uuid.uuid4()),
        "--email",
        "y@example.com",
        "--password",
        "long-enough-1",
        "--role",
        "staff",
        database_url=database_url,
        check=False,
    )
    assert bad_org.returncode == 1 and "Traceback" not in bad_org.stderr


def test_duplicate_email_is_refused(database_url):
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    args = ("create-org", "--name", "A", "--email", email, "--password", "long-enough-1")
    run_cli(*args, database_url=database_url)
    again = run_cli(*args, database_url=database_url, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_export_schema_matches_the_running_schema(tmp_path):
    out = tmp_path / "schema.graphql"
    run_cli("export-schema", "-o", str(out), database_url="sqlite:///unused.db")
    assert out.read_text() == schema.as_str() + "\n"


async def test_migrations_match_the_models(database_url):
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == [], "models and migrations differ: add an Alembic revision"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_demo_on_a_fresh_sqlite_file(tmp_path, workers):
    """The README's first command: a bare machine, an empty directory, a working demo."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "elevatedpos.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "server exited early"
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200
        token = login.json()["data"]["accessToken"]
        me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["data"]["email"] == DEMO_EMAIL
        assert (tmp_path / "demo.db").exists()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert DEMO_EMAIL in output  # the demo login is printed


def _sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets whose local port is `port`, in `state` (01 established,
    0A listening), from the kernel's tables."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _owners_of_connections(port: int) -> dict[int, int]:
    """Established TCP connections on the server side of `port`: pid -> how many it holds."""
    inodes = _sockets_on(port, "01")
    owners: dict[int, int] = {}
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                owners[pid] = owners.get(pid, 0) + 1
    return owners


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="one socket a worker: Linux")
def test_a_worker_that_cannot_start_stops_the_server_with_a_failure_status(tmp_path):
    """uvicorn's supervisor gives up when a worker fails to start (app, lifespan, socket) and
    returns as if it had been asked to stop; the server then exits 3, uvicorn's start-up
    failure status, not 0, so a service manager sees it failed."""
    port = _free_port()
    code = (
        "import sys, uvicorn; from elevatedpos.cli import _serve_workers; "
        f"sys.exit(_serve_workers(uvicorn.Config('no_such_module_here:app', port={port},"
        " workers=2)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "a worker failed to start" in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_workers_share_connections_opened_all_at_once(tmp_path):
    """16 keep-alive connections opened together land on both workers, not all on one."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    env.pop("REDIS_URL", None)
    argv = [sys.executable, "-m", "elevatedpos.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*argv, "--workers", "2", "--no-access-log"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    connections: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        # Both workers listening (a worker listens only after its start-up has finished):
        # connections made before the second listens all go to the first.
        while len(_sockets_on(port, "0A")) < 2:
            if server.poll() is not None:
                raise AssertionError(
                    f"server exited early ({server.returncode}):\n{server.stdout.read()}"
                )
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        for conn in connections:
            conn.sendall(request)
        for conn in connections:
            assert conn.recv(65536).startswith(b"HTTP/1.1 200 OK")
        owners = _owners_of_connections(port)
        assert sum(owners.values()) == 16
        # Both workers hold some (all 16 on one worker: a 1 in 32,768 chance with the hash).
        assert len(owners) == 2, owners
        assert server.pid not in owners  # the supervisor listens on nothing itself
    finally:
        for conn in connections:
            conn.close()
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_workers_refuse_a_port_another_server_holds_with_reuseport(tmp_path):
    """Per-worker SO_REUSEPORT sockets must not quietly share a port with another server."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
        env.pop("REDIS_URL", None)
        argv = [sys.executable, "-m", "elevatedpos.cli", "serve", "--port", str(port)]
        done = subprocess.run(
            [*argv, "--workers", "2"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
