"""Revoked sessions, pushed to every worker by Redis pub/sub.

A revocation (logout, refresh-token reuse) sets a mark in Redis and publishes the session
id. Each worker subscribes, loads the marks already set, and from then on answers "is this
session revoked?" from memory, so an authenticated request needs no Redis round trip for
it. While the subscription is not known to be live (starting, reconnecting, a missed ping)
`revoked()` says None and callers ask Redis per request, as before: a worker never trusts
a view it cannot vouch for.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
import uuid

from redis.asyncio import Redis

log = logging.getLogger("elevatedpos.auth")

REVOKED_PREFIX = "elevatedpos:revoked-session:"
CHANNEL_PREFIX = "elevatedpos:revoked-sessions:"
PING_SECONDS = 2.0
PURGE_SECONDS = 60.0


def channel_for(redis: Redis) -> str:
    """One channel per Redis database: pub/sub is server-wide, marks are per database."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL_PREFIX}{db}"


class RevocationWatch:
    def __init__(self, redis: Redis, mark_seconds: int) -> None:
        self.redis = redis
        self.channel = channel_for(redis)
        self.mark_seconds = mark_seconds
        self._live = asyncio.Event()
        # session id -> monotonic time its mark expires (after that no token of it is valid)
        self._revoked: dict[uuid.UUID, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0

    @property
    def live(self) -> bool:
        return self._live.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._live.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_live(self) -> None:
        """Until the subscription is live (for start-up and tests; bound it with a timeout)."""
        await self._live.wait()

    def revoked(self, session_id: uuid.UUID) -> bool | None:
        """Whether the session is revoked; None when this worker cannot vouch for its view."""
        if not self._live.is_set():
            return None
        return session_id in self._revoked

    def note(self, session_id: uuid.UUID) -> None:
        """Remember a revocation this worker made or heard of."""
        now = time.monotonic()
        self._revoked[session_id] = now + self.mark_seconds
        if now >= self._next_purge:
            self._next_purge = now + PURGE_SECONDS
            for sid in [s for s, until in self._revoked.items() if until <= now]:
                del self._revoked[sid]

    async def publish(self, session_id: uuid.UUID) -> None:
        """Set the mark (per-request checks see it) and tell every subscribed worker."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(f"{REVOKED_PREFIX}{session_id}", 1, ex=self.mark_seconds)
        pipe.publish(self.channel, str(session_id))
        await pipe.execute()
        self.note(session_id)

    async def _load_marks(self) -> None:
        async for key in self.redis.scan_iter(match=f"{REVOKED_PREFIX}*", count=1000):
            raw = key.decode() if isinstance(key, bytes) else str(key)
            with contextlib.suppress(ValueError):
                self.note(uuid.UUID(raw[len(REVOKED_PREFIX) :]))

    def _heard(self, data: object) -> None:
        raw = data.decode() if isinstance(data, bytes) else str(data)
        try:
            self.note(uuid.UUID(raw))
        except ValueError:
            log.warning("ignored a malformed revocation message %r", raw[:80])

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # Marks are read only once the subscription is confirmed: a revocation is
                # then either in the marks, or in a message still to come.
                confirmed = await pubsub.get_message(timeout=PING_SECONDS * 2)
                if confirmed is None or confirmed["type"] != "subscribe":
                    raise ConnectionError("no subscription confirmation")
                await self._load_marks()
                self._live.set()
                backoff = 0.1
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: per-request checks until back
                if self.live:
                    log.warning("revocation feed lost (%s); checking sessions per request", exc)
            finally:
                self._live.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(5.0, backoff * 2)

    async def _listen(self, pubsub: object) -> None:
        last_heard = time.monotonic()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=PING_SECONDS)  # type: ignore[attr-defined]
            now = time.monotonic()
            if message is not None:
                last_heard, pinged = now, False
                if message["type"] == "message":
                    self._heard(message["data"])
                continue
            if pinged and now - last_heard > PING_SECONDS * 2:
                raise ConnectionError("no answer to ping")
            if not pinged:
                await pubsub.ping()  # type: ignore[attr-defined]
                pinged = True


class RevocationFile:
    """Revoked sessions for SQLite without Redis: a file beside the database.

    Every process of an SQLite installation runs on the database's machine, so a file can
    tell them all. A revocation appends `<session id> <unix expiry>` (under an exclusive
    lock on `<file>.lock`) before the database says it; every check stats the file (a few
    microseconds) and reads only what was appended since it last looked, instead of reading
    the session's row through the database. When the file passes `COMPACT_BYTES`, the writer
    rewrites it without expired lines, under a random first line, and swaps it in; readers
    see a new first line and read it whole. A database without a file (`:memory:`) is
    reachable from this process only, so its revocations are kept in memory alone. If the
    file cannot be read, `revoked()` says None and the caller reads the database, as before.
    """

    COMPACT_BYTES = 1 << 20

    def __init__(self, path: str | None, mark_seconds: int) -> None:
        self.path = path
        self.mark_seconds = mark_seconds
        self.live = True
        self._revoked: dict[uuid.UUID, float] = {}  # session id -> wall-clock expiry
        self._identity: tuple[int, int] | None = None  # (inode, size) of what was read
        self._first = b""  # the first line of the file read
        self._offset = 0

    def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def wait_live(self) -> None:
        return None

    def revoked(self, session_id: uuid.UUID) -> bool | None:
        if self.path is not None:
            try:
                self._catch_up()
            except OSError:
                return None
        return session_id in self._revoked

    def note(self, session_id: uuid.UUID) -> None:
        self._revoked[session_id] = time.time() + self.mark_seconds

    async def publish(self, session_id: uuid.UUID) -> None:
        """Write the revocation where every process looks (or only here, for `:memory:`)."""
        self.note(session_id)
        if self.path is not None:
            await asyncio.to_thread(
                self._append, f"{session_id} {int(time.time()) + self.mark_seconds}\n"
            )

    def _catch_up(self) -> None:
        try:
            st = os.stat(self.path)  # type: ignore[arg-type]
        except FileNotFoundError:
            return  # nothing revoked yet by any process
        if self._identity == (st.st_ino, st.st_size):
            return
        with open(self.path, "rb") as f:  # type: ignore[arg-type]
            # A file's first line is unique to it (a session id, or a compacted file's random
            # header), so a swapped-in file is read whole even if it reuses the old inode.
            first = f.readline()
            if first != self._first or st.st_size < self._offset:
                self._first, self._offset = first, 0
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        now = time.time()
        for line in data[:end].splitlines():
            if line.startswith(b"#"):
                continue
            sid, _, expiry = line.decode("ascii", "replace").partition(" ")
            try:
                until = float(expiry)
                if until > now:
                    self._revoked[uuid.UUID(sid)] = until
            except ValueError:
                log.warning("ignored a malformed line in %s: %r", self.path, line[:80])
        self._offset += end
        self._identity = (st.st_ino, self._offset)
        if len(self._revoked) > 10_000:
            self._revoked = {s: t for s, t in self._revoked.items() if t > now}

    def _append(self, line: str) -> None:
        assert self.path is not None
        with open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with open(self.path, "a") as f:
                f.write(line)
                size = f.tell()
            if size > self.COMPACT_BYTES:
                self._compact()

    def _compact(self) -> None:
        """Rewrite the file without expired lines (the caller holds the lock)."""
        assert self.path is not None
        now = time.time()
        with open(self.path) as f:
            kept = [ln for ln in f if ln.endswith("\n") and _unexpired(ln, now)]
        fresh = f"{self.path}.new"
        with open(fresh, "w") as f:
            f.write(f"#{uuid.uuid4()}\n")  # see `_catch_up`
            f.writelines(kept)
        os.replace(fresh, self.path)


def _unexpired(line: str, now: float) -> bool:
    try:
        return float(line.split(" ", 1)[1]) > now
    except (IndexError, ValueError):
        return False
