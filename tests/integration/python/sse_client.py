# SPDX-License-Identifier: MIT
"""A Server-Sent Events client written from the specs (RFC 9112 chunked
bodies, the WHATWG event-stream format) on a plain socket, so that tests
see the stream's bytes: its framing, comments, ids and its end."""

from __future__ import annotations

import json
import socket
from typing import Any

from notifier_testlib import TIMEOUT


class SseClient:
    def __init__(self, port: int, target: str, headers: dict[str, str] | None = None,
                 rcvbuf: int | None = None, version: str = "1.1", timeout: float = TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"GET {target} HTTP/{version}", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""
        self.body = b""
        self.ended = False      # the body ended: last chunk, or EOF of an unframed body
        self.truncated = False  # EOF inside a chunked body
        while b"\r\n\r\n" not in self.raw:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"connection closed in the response head: {self.raw!r}")
            self.raw += data
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.status_line = status_line
        self.headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.chunks = 0
        self.length = int(self.headers["content-length"]) if "content-length" in self.headers else None
        if self.length is not None:
            self.body, self.raw = self._read_exact(self.raw, self.length), b""
            self.ended = True
        else:
            self._decode()  # what came with the head

    def _read_exact(self, have: bytes, n: int) -> bytes:
        while len(have) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed in a body")
            have += data
        return have[:n]

    def json_body(self) -> Any:
        return json.loads(self.body)

    def _decode(self) -> None:
        """Moves what arrived from raw into body, undoing the chunked framing."""
        if not self.chunked:
            self.body += self.raw
            self.raw = b""
            return
        while not self.ended:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if len(self.raw) < line_end + 2 + size + 2:
                return
            chunk = self.raw[line_end + 2:line_end + 2 + size]
            if self.raw[line_end + 2 + size:line_end + 4 + size] != b"\r\n":
                raise AssertionError(f"chunk not followed by CRLF: {self.raw[:200]!r}")
            self.raw = self.raw[line_end + 4 + size:]
            if size == 0:
                self.ended = True
                return
            self.chunks += 1
            self.body += chunk

    def _fill(self) -> bool:
        """Reads once; False at the end of the body or of the connection."""
        if self.ended:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            if self.chunked:
                self.truncated = True
            self.ended = True
            return False
        self.raw += data
        self._decode()
        return True

    def event(self) -> dict[str, Any] | None:
        """The next event ({"event", "data", "id"}) or comment ({"comment"});
        None when the stream ended."""
        fields: dict[str, Any] = {}
        data: list[str] = []
        while True:
            nl = self.body.find(b"\n")
            if nl < 0:
                if not self._fill() and b"\n" not in self.body:
                    return None
                continue
            line = self.body[:nl].decode()
            self.body = self.body[nl + 1:]
            if line == "":
                if data or fields:
                    return {"event": fields.get("event", "message"), "data": "\n".join(data),
                            "id": fields.get("id")}
                continue
            if line.startswith(":"):
                if not data and not fields:
                    return {"comment": line[1:].lstrip(" ")}
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            else:
                fields[name] = value

    def events_until(self, stop) -> list[dict[str, Any]]:
        """Events (not comments) up to and including the first for which `stop` holds."""
        out = []
        while True:
            e = self.event()
            if e is None:
                raise AssertionError(f"the stream ended before the expected event; got {out}")
            if "comment" in e:
                continue
            out.append(e)
            if stop(e):
                return out

    def rest(self) -> list[dict[str, Any]]:
        """Every event up to the end of the stream."""
        out = []
        while (e := self.event()) is not None:
            out.append(e)
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
