# SPDX-License-Identifier: MIT
"""Shared helpers for the notifierd integration tests.

* NotifierServer: runs a real notifierd on 127.0.0.1:0 and stops it with
  SIGTERM, checking that it exits with status 0.
* ServerTestCase: an IsolatedAsyncioTestCase with one notifierd per class.
* RawWebSocket: a minimal blocking RFC 6455 client that can send what a
  conforming library refuses to (unmasked frames, reserved bits, oversized or
  fragmented control frames, invalid UTF-8, ...).
* http_request / publish: HTTP over http.client.
* TlsNotifierServer, make_certificate, wait_logged: a notifierd with
  --tls-cert/--tls-key and clients that verify it; waits on its log.

Every wait is bounded: socket reads use timeouts, WebSocket reads go through
asyncio.wait_for.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import websockets
import websockets.exceptions

# tests/integration/python/ -> the repository root
REPO_ROOT = Path(__file__).resolve().parent.parent.parent.parent

# Upper bound for any single wait on the server. Generous: the tests never
# sleep, so a long timeout only costs time when something is broken.
TIMEOUT = 5.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def notifierd_path() -> str:
    """The binary under test: $NOTIFIERD, default build/notifierd (relative
    paths are tried against the working directory, then the repository root)."""
    configured = os.environ.get("NOTIFIERD", "build/notifierd")
    candidate = Path(configured)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = REPO_ROOT / configured
    if not candidate.exists():
        raise FileNotFoundError(
            f"notifierd not found at {configured!r}; build it (ninja -C build notifierd) or set NOTIFIERD")
    return str(candidate.resolve())


def kernel_send_buffer_max() -> int:
    """The most the kernel may buffer on the sending side of one TCP
    connection: Linux grows a socket's send buffer up to tcp_wmem[2] (4 MiB
    by default). Data the server wrote sits there, not in its own queue, so
    tests that must overflow the server's queue publish more than this."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 << 20


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------

class NotifierServer:
    """One notifierd subprocess listening on an ephemeral loopback port."""

    scheme = "http"  # what its first line names: http, or https with TLS

    def __init__(self, *flags: str, startup_timeout: float = 10.0, listen: str | None = "127.0.0.1:0",
                 env: dict[str, str] | None = None):
        self.flags = list(flags)
        self.startup_timeout = startup_timeout
        self.listen = listen
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.host = "127.0.0.1"
        self._stderr: list[bytes] = []
        self._stderr_thread: threading.Thread | None = None
        self.stdout_tail = b""

    def start(self) -> "NotifierServer":
        # listen=None: no --listen flag, the address comes from the configuration.
        cmd = [notifierd_path(), *(["--listen", self.listen] if self.listen is not None else []), *self.flags]
        env = None if self.env is None else {**os.environ, **self.env}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        line = self._read_first_line()
        # The host is printed as given, an IPv6 one without brackets.
        m = re.fullmatch(rb"notifierd listening on " + self.scheme.encode() + rb"://(\S+):(\d+)\n", line)
        if not m:
            self.kill()
            raise AssertionError(f"unexpected first line from notifierd: {line!r}; stderr: {self.stderr()}")
        self.host = m.group(1).decode()
        self.port = int(m.group(2))
        return self

    def _read_first_line(self) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise AssertionError(f"notifierd did not report its port within {self.startup_timeout}s; "
                                     f"stderr: {self.stderr()}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = self.proc.wait(timeout=TIMEOUT)
                raise AssertionError(f"notifierd exited with {code} before listening; stderr: {self.stderr()}")
            buf += chunk
        line, _, rest = buf.partition(b"\n")
        self.stdout_tail = rest
        return line + b"\n"

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self._stderr.append(chunk)

    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, query: str = "") -> str:
        return f"ws://{self.host}:{self.port}/ws" + (f"?{query}" if query else "")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM without waiting."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        if self.proc.stdout is not None:
            self.stdout_tail += self.proc.stdout.read()
            self.proc.stdout.close()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=TIMEOUT)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then asserts a prompt exit with status 0."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.terminate()
            try:
                code = self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"notifierd did not exit within {timeout}s of SIGTERM; stderr: {self.stderr()}")
        else:
            code = self.wait(TIMEOUT)
            raise AssertionError(f"notifierd died before SIGTERM with status {code}; stderr: {self.stderr()}")
        if code != 0:
            raise AssertionError(f"notifierd exited with status {code} after SIGTERM; stderr: {self.stderr()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def http_request(port: int, method: str, path: str, body: bytes | str | None = None,
                 headers: dict[str, str] | None = None, conn: http.client.HTTPConnection | None = None,
                 timeout: float = TIMEOUT) -> HttpResponse:
    """One request; `path` is sent as is (no normalisation). With `conn` the
    request reuses that keep-alive connection."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        data = res.read()
        return HttpResponse(res.status, {k.lower(): v for k, v in res.getheaders()}, data)
    finally:
        if own:
            conn.close()


JSON_HEADERS = {"Content-Type": "application/json"}


def post_publish(port: int, payload: Any, conn: http.client.HTTPConnection | None = None,
                 raw: bytes | str | None = None, headers: dict[str, str] | None = None) -> HttpResponse:
    body = raw if raw is not None else json.dumps(payload)
    return http_request(port, "POST", "/publish", body, headers if headers is not None else JSON_HEADERS, conn=conn)


def publish(port: int, payload: Any, conn: http.client.HTTPConnection | None = None) -> list[int]:
    """Publishes one notification or a batch; asserts 202 and returns the seqs."""
    res = post_publish(port, payload, conn=conn)
    if res.status != 202:
        raise AssertionError(f"POST /publish {payload!r:.200} -> {res.status} {res.body[:300]!r}")
    seqs = res.json()["seqs"]
    expected = len(payload) if isinstance(payload, list) else 1
    if len(seqs) != expected:
        raise AssertionError(f"expected {expected} seqs, got {seqs}")
    return seqs


def ws_handshake_http(port: int, target: str, version: str = "13",
                      extra: dict[str, str] | None = None) -> HttpResponse:
    """A WebSocket opening request through http.client, to inspect refusals."""
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": version,
    }
    headers.update(extra or {})
    return http_request(port, "GET", target, headers=headers)


# --------------------------------------------------------------------------
# WebSocket through the websockets library
# --------------------------------------------------------------------------

async def ws_connect(server: NotifierServer, query: str = "", **kwargs) -> websockets.WebSocketClientProtocol:
    options = dict(ping_interval=None, compression=None, open_timeout=TIMEOUT, close_timeout=2, max_size=None)
    options.update(kwargs)
    return await asyncio.wait_for(websockets.connect(server.ws_url(query), **options), TIMEOUT)


async def recv_text(ws, timeout: float = TIMEOUT) -> str:
    msg = await asyncio.wait_for(ws.recv(), timeout)
    if not isinstance(msg, str):
        raise AssertionError(f"expected a text frame, got binary {msg[:100]!r}")
    return msg


async def recv_json(ws, timeout: float = TIMEOUT) -> Any:
    return json.loads(await recv_text(ws, timeout))


def no_seq(frame: Any) -> Any:
    """A `subscribed` frame without its `seq` (checked to be a seq), for
    comparing the rest exactly."""
    assert isinstance(frame, dict), frame
    seq = frame.pop("seq", None)
    assert isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0, f"subscribed without a seq: {frame}"
    return frame


async def recv_until(ws, predicate: Callable[[Any], bool], timeout: float = TIMEOUT) -> list[Any]:
    """Frames (parsed) up to and including the first one matching `predicate`."""
    out = []
    while True:
        frame = await recv_json(ws, timeout)
        out.append(frame)
        if predicate(frame):
            return out


async def frames_before_marker(ws, marker_seq: int, timeout: float = TIMEOUT) -> list[Any]:
    """Everything received before the notification `marker_seq` (which must come)."""
    frames = await recv_until(ws, lambda f: isinstance(f, dict) and f.get("seq") == marker_seq
                              and "type" not in f, timeout)
    return frames[:-1]


async def wait_closed(ws, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Reads until the server closes; returns (code, reason) of its close frame."""
    async def drain():
        try:
            while True:
                await ws.recv()
        except websockets.exceptions.ConnectionClosed:
            pass
    await asyncio.wait_for(drain(), timeout)
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return ws.close_code, ws.close_reason


def notification(collection: str, action: str = "create", id: Any = None, data: Any = None, **extra) -> dict:
    n: dict[str, Any] = {"collection": collection, "action": action}
    if id is not None:
        n["id"] = id
    if data is not None:
        n["data"] = data
    n.update(extra)
    return n


def is_notification(frame: Any) -> bool:
    return isinstance(frame, dict) and "type" not in frame and "seq" in frame


async def recv_notifications(ws, count: int, timeout: float = 20) -> list[dict]:
    """The next `count` notifications on `ws`, other frames skipped."""
    got: list[dict] = []
    while len(got) < count:
        frame = await recv_json(ws, timeout=timeout)
        if is_notification(frame):
            got.append(frame)
    return got


# --------------------------------------------------------------------------
# Raw WebSocket client
# --------------------------------------------------------------------------

class ConnectionEnded(Exception):
    """The peer closed the TCP connection (EOF or reset)."""


@dataclass
class Frame:
    fin: bool
    opcode: int
    payload: bytes
    rsv: int = 0
    masked: bool = False

    def text(self) -> str:
        return self.payload.decode()

    def json(self) -> Any:
        return json.loads(self.payload)

    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    def close_reason(self) -> str:
        return self.payload[2:].decode()


def encode_frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, mask: bool = True,
                 mask_key: bytes | None = None) -> bytes:
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        header = struct.pack("!BB", b0, mbit | n)
    elif n <= 0xFFFF:
        header = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        header = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, key)
    return header + key + masked


def _mask_fast(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


class RawWebSocket:
    """A blocking WebSocket client speaking bytes. Every read has a timeout."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"", response_head: bytes = b""):
        self.sock = sock
        self.buf = buffered
        self.response_head = response_head

    @classmethod
    def connect(cls, port: int, target: str = "/ws", rcvbuf: int | None = None,
                extra_bytes: bytes = b"", headers: dict[str, str] | None = None,
                timeout: float = TIMEOUT, source: str | None = None) -> "RawWebSocket":
        """Opens a connection and completes the opening handshake by hand.
        `rcvbuf` sets SO_RCVBUF before connecting (so it bounds the TCP
        window); `headers` override the request's; `extra_bytes` are sent
        in the same write as the request; `source` binds the client to that
        local address (e.g. 127.0.0.2: another client IP on loopback)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if source is not None:
                sock.bind((source, 0))
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect(("127.0.0.1", port))
            return cls.handshake(sock, f"127.0.0.1:{port}", target, headers, extra_bytes, timeout)
        except BaseException:
            sock.close()
            raise

    @classmethod
    def handshake(cls, sock: socket.socket, host: str, target: str = "/ws",
                  headers: dict[str, str] | None = None, extra_bytes: bytes = b"",
                  timeout: float = TIMEOUT) -> "RawWebSocket":
        """The opening handshake (RFC 6455 section 4.1) on a connected
        socket, plain or TLS: the request (its fields overridden by
        `headers`, followed by `extra_bytes` in the same write), then the
        101 answer and its Sec-WebSocket-Accept checked."""
        key = base64.b64encode(os.urandom(16)).decode()
        fields = {"Host": host, "Upgrade": "websocket", "Connection": "Upgrade",
                  "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
        fields.update(headers or {})
        request = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        sock.sendall(request.encode() + extra_bytes)
        raw = cls(sock)
        head = raw._read_until(b"\r\n\r\n", timeout)
        raw.response_head = head
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {head!r}")
        answered = {name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)}
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        if answered.get("sec-websocket-accept") != accept:
            raise AssertionError(f"bad Sec-WebSocket-Accept in {head!r}")
        return raw

    def close_socket(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawWebSocket":
        return self

    def __exit__(self, *exc) -> None:
        self.close_socket()

    # -- reading --

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for data from notifierd")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("timed out waiting for data from notifierd") from None
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionEnded(f"connection reset: {e}") from None
        if not chunk:
            raise ConnectionEnded("EOF")
        self.buf += chunk

    def _read_until(self, delim: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while delim not in self.buf:
            self._fill(deadline)
        head, _, self.buf = self.buf.partition(delim)
        return head + delim

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout: float = TIMEOUT) -> Frame:
        deadline = time.monotonic() + timeout
        b0, b1 = self._read_exact(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8, deadline))[0]
        masked = bool(b1 & 0x80)
        key = self._read_exact(4, deadline) if masked else b""
        payload = self._read_exact(n, deadline)
        if masked:
            payload = _mask_fast(payload, key)
        return Frame(bool(b0 & 0x80), b0 & 0x0F, payload, (b0 >> 4) & 0x7, masked)

    def recv_json(self, timeout: float = TIMEOUT) -> Any:
        """The next text frame as JSON, skipping (but not answering) pings."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            if f.opcode == OP_PING:
                continue
            if f.opcode != OP_TEXT:
                raise AssertionError(f"expected a text frame, got opcode {f.opcode:#x} payload {f.payload[:100]!r}")
            return f.json()

    def expect_close(self, timeout: float = TIMEOUT) -> tuple[int | None, str, list[Frame]]:
        """Reads up to the server's close frame: (code, reason, frames before it)."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            f = self.recv_frame(max(deadline - time.monotonic(), 0.001))
            if f.opcode == OP_CLOSE:
                return f.close_code(), f.close_reason(), before
            before.append(f)

    def expect_eof(self, timeout: float = TIMEOUT) -> list[Frame]:
        """Reads until the server ends the TCP connection; returns the frames read."""
        deadline = time.monotonic() + timeout
        frames = []
        try:
            while True:
                frames.append(self.recv_frame(max(deadline - time.monotonic(), 0.001)))
        except ConnectionEnded:
            return frames

    # -- writing --

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kwargs) -> None:
        self.sock.sendall(encode_frame(opcode, payload, **kwargs))

    def send_text(self, text: str | bytes, **kwargs) -> None:
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text, **kwargs)

    def send_json(self, obj: Any) -> None:
        self.send_text(json.dumps(obj))

    def send_close(self, code: int | None = 1000, reason: bytes = b"") -> None:
        payload = b"" if code is None else struct.pack("!H", code) + reason
        self.send_frame(OP_CLOSE, payload)


# --------------------------------------------------------------------------
# Test case base
# --------------------------------------------------------------------------

class ClientHelpers:
    """Client-side helpers for test cases that keep their server in `self.server`."""

    server: NotifierServer

    @property
    def port(self) -> int:
        return self.server.port

    async def connect(self, query: str = "", server: NotifierServer | None = None, **kwargs):
        """A connected library client (closed at cleanup) and its welcome frame."""
        ws = await ws_connect(server or self.server, query, **kwargs)
        self.addAsyncCleanup(self._close_ws, ws)
        welcome = await recv_json(ws)
        self.assertEqual(welcome.get("type"), "welcome", welcome)
        return ws, welcome

    @staticmethod
    async def _close_ws(ws) -> None:
        try:
            await asyncio.wait_for(ws.close(), TIMEOUT)
        except (asyncio.TimeoutError, OSError):
            ws.transport.abort()

    def raw(self, target: str = "/ws", server: NotifierServer | None = None, **kwargs) -> RawWebSocket:
        raw = RawWebSocket.connect((server or self.server).port, target, **kwargs)
        self.addCleanup(raw.close_socket)
        return raw

    async def publish(self, payload: Any, server: NotifierServer | None = None) -> list[int]:
        return await asyncio.to_thread(publish, (server or self.server).port, payload)

    async def post(self, payload: Any = None, **kwargs) -> HttpResponse:
        return await asyncio.to_thread(post_publish, self.port, payload, **kwargs)

    async def http(self, method: str, path: str, body: bytes | str | None = None,
                   headers: dict[str, str] | None = None, server: NotifierServer | None = None) -> HttpResponse:
        return await asyncio.to_thread(http_request, (server or self.server).port, method, path, body, headers)

    async def assert_serves(self, server: NotifierServer | None = None) -> None:
        """The server still answers HTTP and delivers to a fresh WebSocket client."""
        server = server or self.server
        health = await self.http("GET", "/healthz", server=server)
        self.assertEqual((health.status, health.json()), (200, {"status": "ok"}))
        ws, _ = await self.connect("collections=probe", server=server)
        [seq] = await self.publish(notification("probe", "check"), server=server)
        self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "probe", "action": "check"})
        await ws.close()

    def assert_error_body(self, res: HttpResponse, status: int, code: str | None) -> None:
        """A JSON error body; `code` None accepts any code (for statuses whose
        code the protocol does not name)."""
        self.assertEqual(res.status, status, res.body)
        self.assertTrue((res.header("content-type") or "").startswith("application/json"), res.headers)
        body = res.json()
        self.assertEqual(set(body), {"error", "message"}, body)
        if code is None:
            self.assertIsInstance(body["error"], str)
            self.assertTrue(body["error"])
        else:
            self.assertEqual(body["error"], code, body)
        self.assertIsInstance(body["message"], str)
        self.assertTrue(body["message"])

    def assert_error_frame(self, frame: Any, code: str) -> None:
        self.assertIsInstance(frame, dict)
        self.assertEqual(set(frame), {"type", "code", "message"}, frame)
        self.assertEqual((frame["type"], frame["code"]), ("error", code), frame)
        self.assertIsInstance(frame["message"], str)


class ServerTestCase(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    """One notifierd per test class, started with `server_flags`."""

    server_flags: tuple[str, ...] = ()

    @classmethod
    def make_server(cls) -> "NotifierServer":
        return NotifierServer(*cls.server_flags)

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = cls.make_server().start()

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            cls.server.stop()
        finally:
            super().tearDownClass()

    async def asyncTearDown(self) -> None:
        if not self.server.running():
            self.fail(f"notifierd is no longer running; stderr: {self.server.stderr()}")


# --------------------------------------------------------------------------
# TLS (--tls-cert, --tls-key): certificates made with the openssl command,
# a server printing https://, clients that verify it
# --------------------------------------------------------------------------

@dataclass
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1 and its key."""
    cert: Path
    key: Path
    subject: str  # as notifierd logs it (OpenSSL's one-line form), e.g. "/CN=notifier-a"

    @property
    def der(self) -> bytes:
        return ssl.PEM_cert_to_DER_cert(self.cert.read_text())


def make_certificate(directory: Path, name: str, common_name: str | None = None, days: int = 2) -> Certificate:
    """`name`.crt.pem and `name`.key.pem in `directory`: a P-256 key and a
    self-signed certificate whose subjectAltName covers localhost and
    127.0.0.1 (what the tests connect to); the common name tells
    certificates apart in handshakes and in the server's log."""
    cn = common_name or f"notifier-{name}"
    cert, key = directory / f"{name}.crt.pem", directory / f"{name}.key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN={cn}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-days", str(days), "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return Certificate(cert, key, f"/CN={cn}")


def client_tls_context(cafile: str | Path, alpn: list[str] | None = None,
                       maximum_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client context that trusts exactly `cafile` (hostname checked)."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    if maximum_version is not None:
        ctx.maximum_version = maximum_version
    return ctx


class TlsNotifierServer(NotifierServer):
    """A notifierd whose listener speaks TLS. `cert` (a Certificate) gives
    --tls-cert and --tls-key; without it they come from `flags`, `env` or a
    configuration file. Clients trust `cafile` (default: cert's file)."""

    def __init__(self, *flags: str, cert: Certificate | None = None, cafile: str | Path | None = None, **kwargs):
        tls = ["--tls-cert", str(cert.cert), "--tls-key", str(cert.key)] if cert is not None else []
        super().__init__(*tls, *flags, **kwargs)
        self.cafile = str(cafile if cafile is not None else cert.cert if cert is not None else "")

    scheme = "https"

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def ws_url(self, query: str = "") -> str:
        return f"wss://{self.host}:{self.port}/ws" + (f"?{query}" if query else "")

    def context(self, **kwargs) -> ssl.SSLContext:
        return client_tls_context(self.cafile, **kwargs)

    def https_connection(self, context: ssl.SSLContext | None = None,
                         timeout: float = TIMEOUT) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context or self.context())

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, conn: http.client.HTTPSConnection | None = None,
                context: ssl.SSLContext | None = None) -> HttpResponse:
        """http_request over HTTPS, on `conn` when given (kept open)."""
        own = conn is None
        conn = conn or self.https_connection(context)
        try:
            return http_request(self.port, method, path, body, headers, conn=conn)
        finally:
            if own:
                conn.close()

    def publish(self, payload: Any, conn: http.client.HTTPSConnection | None = None) -> list[int]:
        """POST /publish over HTTPS; asserts 202 and returns the seqs."""
        own = conn is None
        conn = conn or self.https_connection()
        try:
            return publish(self.port, payload, conn=conn)
        finally:
            if own:
                conn.close()

    def handshake(self, context: ssl.SSLContext | None = None, timeout: float = TIMEOUT) -> ssl.SSLSocket:
        """A TLS connection, handshake done, nothing sent yet."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            return (context or self.context()).wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

    def raw_websocket(self, target: str = "/ws", rcvbuf: int | None = None, timeout: float = TIMEOUT,
                      context: ssl.SSLContext | None = None) -> RawWebSocket:
        """RawWebSocket over TLS: the socket's receive buffer set to `rcvbuf`
        before connecting (it bounds the TCP window), then the TLS and the
        WebSocket handshakes."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect((self.host, self.port))
            tls = (context or self.context()).wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        try:
            return RawWebSocket.handshake(tls, f"{self.host}:{self.port}", target, timeout=timeout)
        except BaseException:
            tls.close()
            raise


class made_once:
    """Things made on first use by `make(directory, name)` (keys,
    certificates) and got by name: each made once per run, all in one
    temporary directory named after `prefix`, which cleanup() removes (from
    the module's tearDownModule)."""

    def __init__(self, prefix: str, make: Callable[[Path, str], Any]):
        self.prefix = prefix
        self.make = make
        self.made: dict[str, Any] = {}
        self.directory: tempfile.TemporaryDirectory | None = None

    def __call__(self, name: str) -> Any:
        if name not in self.made:
            if self.directory is None:
                self.directory = tempfile.TemporaryDirectory(prefix=self.prefix)
            self.made[name] = self.make(Path(self.directory.name), name)
        return self.made[name]

    def cleanup(self) -> None:
        if self.directory is not None:
            self.directory.cleanup()


def wait_logged(server: NotifierServer, pattern: str, count: int = 1, timeout: float = TIMEOUT) -> list[re.Match]:
    """Waits until the server's stderr holds `count` matches of the regular
    expression `pattern` (the server logs after it acted: a reload, a
    refusal); returns them."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(re.finditer(pattern, server.stderr()))
        if len(found) >= count:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{count} log lines matching {pattern!r} expected within {timeout}s; "
                                 f"stderr: {server.stderr()}")
        time.sleep(0.01)
