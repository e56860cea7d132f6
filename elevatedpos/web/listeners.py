"""Several workers on one port, each with its own listening socket (Linux SO_REUSEPORT).

uvicorn's `--workers` binds one socket in the supervisor and every worker accepts from it.
The worker that wakes first accepts everything pending, so a client that opens its
keep-alive connections at once (a till fleet after a network blip, a load balancer's pool,
wrk) can end up with all of them on one worker while the others idle, for as long as the
connections live. With SO_REUSEPORT each worker listens on a socket of its own, bound to
the same address, and the kernel spreads new connections over them by a hash of the
connection's addresses.

uvicorn's supervisor hands its sockets to each worker by pickling them. `ReusePortListener`
is what the supervisor holds instead: it pickles into a freshly bound socket, so every
worker (and every replacement of a dead one) binds its own. The supervisor itself
listens on nothing.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    """SO_REUSEPORT spreads connections over sockets on Linux only (BSDs/macOS do not)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _tcp_socket(host: str) -> socket.socket:
    """A TCP socket of the host's family (IPv6 when it is written with colons), as uvicorn's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.socket(family, socket.SOCK_STREAM)


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, not yet listening."""
    sock = _tcp_socket(host)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _worker_socket(host: str, port: int) -> socket.socket:
    """Run in a worker as it unpickles its arguments: its own socket, or a start-up failure."""
    try:
        return bind_reuse_port(host, port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from exc


class ReusePortListener:
    """Stands for a listening socket in the supervisor; becomes one in each worker."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def check(self) -> None:
        """Fail before any worker starts when the port is taken, by anyone: a bind without
        SO_REUSEPORT also fails against another server's SO_REUSEPORT sockets, which
        would otherwise quietly share the port with ours."""
        with _tcp_socket(self.host) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((self.host, self.port))

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return _worker_socket, (self.host, self.port)
