# SPDX-License-Identifier: MIT
"""A throwaway redis-server for the multi-node tests (docs/scaling.md).

* RedisServer: Debian's redis-server on a free loopback port, with its
  working directory in a temporary directory. Without persistence by default
  (`--save "" --appendonly no`); `persistent=True` adds an append-only file
  fsynced on every write (`--appendonly yes --appendfsync always`). It can be
  stopped (SIGTERM, or SIGKILL to simulate a crash) and started again on the
  same port and directory.
* RedisConnection / RedisServer.command: a minimal RESP2 client (for SAVE,
  XLEN, CLIENT KILL and the like), so the tests need no Redis client library.
* redis_server_path / require_redis_server: find the binary; the latter
  raises unittest.SkipTest (with what to install) when it is missing.

Readiness is the "Ready to accept connections" line of the server's log,
read from its stdout; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
from typing import Any

# Bound for starting and stopping the server.
REDIS_TIMEOUT = 10.0

_READY = b"Ready to accept connections"


def redis_server_path() -> str | None:
    """Debian's redis-server ($REDIS_SERVER overrides), or None."""
    configured = os.environ.get("REDIS_SERVER")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None)


def require_redis_server() -> str:
    path = redis_server_path()
    if path is None:
        raise unittest.SkipTest("redis-server is not installed (apt-get install redis-server, "
                                "or run scripts/install-deps); the multi-node tests need a real Redis")
    return path


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisError(Exception):
    """An error reply from Redis."""


def _read_reply(f) -> Any:
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ConnectionError(f"unexpected reply from Redis: {line!r}")


class RedisConnection:
    """One connection and a minimal RESP2 client. command() returns str for
    simple strings, bytes for bulk strings, int, list or None; an error
    reply raises RedisError."""

    def __init__(self, port: int, timeout: float = REDIS_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, *args: str | bytes | int) -> None:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))

    def reply(self, timeout: float = REDIS_TIMEOUT) -> Any:
        self.sock.settimeout(timeout)
        return _read_reply(self.file)

    def command(self, *args: str | bytes | int, timeout: float = REDIS_TIMEOUT) -> Any:
        self.send(*args)
        return self.reply(timeout)

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> "RedisConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RedisServer:
    """One redis-server subprocess on 127.0.0.1. The port and the data
    directory stay the same across stop()/start(), as for a real restart."""

    def __init__(self, persistent: bool = False):
        self.path = require_redis_server()
        self.persistent = persistent
        self.port: int | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="notifier-redis-")
        self.dir = self._tmp.name
        self.proc: subprocess.Popen | None = None
        self._log: list[bytes] = []
        self._log_lock = threading.Lock()
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        cmd = [self.path, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
               "--logfile", "", "--daemonize", "no", "--protected-mode", "no", "--save", ""]
        if self.persistent:
            cmd += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            cmd += ["--appendonly", "no"]
        return cmd

    def start(self) -> "RedisServer":
        """Starts the server (on a new free port the first time, on the same
        port afterwards) and returns once it accepts connections."""
        assert not self.running(), "redis-server is already running"
        fresh = self.port is None
        for _ in range(3 if fresh else 1):
            if fresh:
                self.port = free_port()
            if self._spawn():
                return self
        raise AssertionError(f"redis-server did not start on port {self.port}; log:\n{self.log()}")

    def _spawn(self) -> bool:
        self._ready.clear()
        with self._log_lock:
            self._log.append(f"--- starting on port {self.port}\n".encode())
        self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        self._reader = threading.Thread(target=self._read_log, args=(self.proc,), daemon=True)
        self._reader.start()
        if self._ready.wait(REDIS_TIMEOUT):
            return True
        # Exited (e.g. the port was taken meanwhile) or hung.
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(REDIS_TIMEOUT)
        self._reader.join(REDIS_TIMEOUT)
        return False

    def _read_log(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        pending = b""
        for chunk in iter(lambda: proc.stdout.read1(4096), b""):
            with self._log_lock:
                self._log.append(chunk)
            pending = (pending + chunk)[-4096:]
            if _READY in pending:
                self._ready.set()
        proc.stdout.close()

    def log(self) -> str:
        with self._log_lock:
            return b"".join(self._log).decode(errors="replace")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (a clean shutdown) or SIGKILL (a crash); returns once the
        process has exited, so the port refuses connections."""
        if not self.running():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(REDIS_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(REDIS_TIMEOUT)
            raise AssertionError(f"redis-server did not exit within {REDIS_TIMEOUT}s of SIGTERM")
        if self._reader is not None:
            self._reader.join(REDIS_TIMEOUT)

    def command(self, *args: str | bytes | int) -> Any:
        """Sends one command on a fresh connection and returns the reply."""
        with self.connect() as conn:
            return conn.command(*args)

    def connect(self) -> "RedisConnection":
        return RedisConnection(self.port)

    def close(self) -> None:
        """Stops the server and removes its directory."""
        try:
            self.stop(kill=True)
        finally:
            self._tmp.cleanup()
