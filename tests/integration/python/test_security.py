# SPDX-License-Identifier: MIT
"""Security: subscriber tokens, read permissions, publish keys, the Origin
check, connection and message-rate limits, safe defaults (docs/security.md,
docs/protocol.md "Security").

Tokens are made here with the standard library (HS256) and the `openssl`
command (RS256/ES256), independently of the server's verifier. Every refusal
test ends by checking that the server still serves everyone else: a client
connected before the refusal and a fresh one both receive a notification.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
from pathlib import Path
from typing import Any, Callable

import websockets
import websockets.exceptions

from notifier_testlib import (
    JSON_HEADERS,
    OP_TEXT,
    TIMEOUT,
    HttpResponse,
    NotifierServer,
    ServerTestCase,
    encode_frame,
    frames_before_marker,
    http_request,
    made_once,
    notifierd_path,
    notification,
    post_publish,
    recv_json,
    wait_closed,
    ws_connect,
    ws_handshake_http,
    no_seq,
)


def closes_after_upgrade(res: HttpResponse, close: int) -> bool:
    """A raw exchange that completed the upgrade and then carried the server's
    close frame with `close` (4401 or 4403)."""
    return res.status == 101 and b"\x88" in res.body and close.to_bytes(2, "big") in res.body

SECRET = "hs256-test-secret-9f8e7d6c5b4a3210"
ISSUER = "https://auth.test"
AUDIENCE = "notifier-test"
FLAG_KEYS = ("publish-key-alpha-0123456789", "publish-key-bravo-0123456789")
FILE_KEY = "publish-key-from-a-file-0123456"
APP_ORIGIN = "https://app.example"


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


Signer = Callable[[bytes], bytes]


def encode_jwt(header: dict | bytes, payload: dict | bytes, sign: Signer | None) -> str:
    """header.payload.signature; `sign` None leaves the signature part empty."""
    h = header if isinstance(header, bytes) else compact_json(header)
    p = payload if isinstance(payload, bytes) else compact_json(payload)
    signing_input = f"{b64url(h)}.{b64url(p)}"
    sig = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64url(sig)}"


def hmac_signer(secret: str | bytes) -> Signer:
    key = secret.encode() if isinstance(secret, str) else secret
    return lambda data: hmac.new(key, data, hashlib.sha256).digest()


def hs256(payload: dict | bytes, secret: str | bytes = SECRET, header: dict | None = None) -> str:
    return encode_jwt(header or {"alg": "HS256", "typ": "JWT"}, payload, hmac_signer(secret))


def claims(read: list[str] | None = None, exp_in: int | None = 3600, **extra: Any) -> dict:
    """A payload with the test issuer and audience; `read` None: no
    notifier claim; a keyword set to None removes that claim."""
    now = int(time.time())
    c: dict[str, Any] = {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    if exp_in is not None:
        c["exp"] = now + exp_in
    if read is not None:
        c["notifier"] = {"read": list(read)}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def der_ecdsa_to_raw(der: bytes) -> bytes:
    """SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each (JWS ES256)."""
    if der[0] != 0x30:
        raise ValueError("not a DER sequence")
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER integer")
        n = der[i + 1]
        value = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += value.rjust(32, b"\0")
        i += 2 + n
    return out


class OpenSSLKey:
    """A key pair made with the openssl command; signs with `openssl dgst`."""

    def __init__(self, kind: str, directory: Path, name: str):
        self.kind = kind
        self.private = directory / f"{name}.key.pem"
        self.public = directory / f"{name}.pub.pem"
        if kind == "rsa":
            gen = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        else:
            gen = ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        subprocess.run([*gen, "-out", str(self.private)], check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "pkey", "-in", str(self.private), "-pubout", "-out", str(self.public)],
                       check=True, capture_output=True, timeout=60)
        self.public_pem = self.public.read_bytes()

    @property
    def alg(self) -> str:
        return "RS256" if self.kind == "rsa" else "ES256"

    def sign_der(self, data: bytes) -> bytes:
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.private)], input=data,
                              check=True, capture_output=True, timeout=60).stdout

    def sign(self, data: bytes) -> bytes:
        der = self.sign_der(data)
        return der if self.kind == "rsa" else der_ecdsa_to_raw(der)

    def token(self, payload: dict | bytes, header: dict | None = None) -> str:
        return encode_jwt(header or {"alg": self.alg, "typ": "JWT"}, payload, self.sign)


# Keys by name ("rsa", "rsa-other", "ec", "ec-other"), made once per run.
key = made_once("notifier-keys-", lambda directory, name: OpenSSLKey(name.split("-")[0], directory, name))


def tearDownModule() -> None:
    key.cleanup()


# --------------------------------------------------------------------------
# Raw HTTP exchanges that end with the connection
# --------------------------------------------------------------------------

def upgrade_request(port: int, target: str, headers: dict[str, str] | None = None) -> bytes:
    fields = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
              "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), "Sec-WebSocket-Version": "13"}
    fields.update(headers or {})
    return (f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


def exchange_to_eof(port: int, request: bytes | None, source: str | None = None,
                    timeout: float = TIMEOUT) -> HttpResponse:
    """Sends `request` (None: nothing), half-closes, and reads until the
    server closes. Returning means the server has let go of the connection.
    The body is everything after the head, whatever Content-Length says."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if source:
            sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        if request:
            sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError(f"no complete HTTP response: {data!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return HttpResponse(status, headers, body)


def release(sock: socket.socket) -> None:
    """Half-closes and waits for the server to close its side: afterwards
    the server no longer counts the connection."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(TIMEOUT)
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        sock.close()


def close_and_wait(conn: http.client.HTTPConnection) -> None:
    """Closes a keep-alive connection once the server has let go of it."""
    if conn.sock is not None:
        release(conn.sock)
    conn.close()


def is_error(frame: Any, code: str) -> bool:
    return isinstance(frame, dict) and frame.get("type") == "error" and frame.get("code") == code


# --------------------------------------------------------------------------
# Test cases
# --------------------------------------------------------------------------

class SecurityTestCase(ServerTestCase):
    """A server with authentication; a bystander client connected before
    each test must still receive a notification after it."""

    publish_key: str | None = None
    bystander = True

    @classmethod
    def sign(cls, payload: dict | bytes) -> str:
        return hs256(payload)

    def token(self, read: list[str] | None = None, exp_in: int | None = 3600, **extra: Any) -> str:
        return self.sign(claims(read, exp_in, **extra))

    async def refresh_narrowing(self, ws, read: list[str], left: list[str]) -> None:
        """Sends an auth frame with a token for `read`, narrower than the
        connection's: it is authenticated, then told the subscriptions
        `left`."""
        narrower = claims(read)
        await ws.send(json.dumps({"type": "auth", "token": self.sign(narrower)}))
        self.assertEqual(await recv_json(ws), {"type": "authenticated", "exp": narrower["exp"]})
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": left})

    async def connect_token(self, token: str, query: str = "", server: NotifierServer | None = None, **kwargs):
        q = "token=" + urllib.parse.quote(token, safe="") + ("&" + query if query else "")
        return await self.connect(q, server=server, **kwargs)

    def publish_headers(self) -> dict[str, str]:
        h = dict(JSON_HEADERS)
        if self.publish_key:
            h["Authorization"] = f"Bearer {self.publish_key}"
        return h

    async def publish_ok(self, payload: Any) -> list[int]:
        res = await asyncio.to_thread(post_publish, self.port, payload, headers=self.publish_headers())
        self.assertEqual(res.status, 202, res.body)
        return res.json()["seqs"]

    async def handshake(self, target: str, headers: dict[str, str] | None = None) -> HttpResponse:
        return await asyncio.to_thread(ws_handshake_http, self.port, target, "13", headers)

    async def assert_refused_before_upgrade(self, token: str | None, status: int, code: str,
                                            headers: dict[str, str] | None = None) -> HttpResponse:
        """Refused with an HTTP error before the upgrade (foreign origin, a
        header too large): no frame may reach the page."""
        target = "/ws"
        if token is not None:
            target += "?token=" + urllib.parse.quote(token, safe="")
        res = await self.handshake(target, headers)
        self.assert_error_body(res, status, code)
        return res

    async def assert_refused(self, token: str | None, status: int, code: str, query: str = "",
                             headers: dict[str, str] | None = None) -> dict:
        """A token refusal at connect: the upgrade completes, one error frame
        with `code` comes, then the close with 4401 (`status` 401) or 4403
        (403), and nothing else. Returns the error frame."""
        close = {401: 4401, 403: 4403}[status]
        params = []
        if token is not None:
            params.append("token=" + urllib.parse.quote(token, safe=""))
        if query:
            params.append(query)
        ws = await ws_connect(self.server, "&".join(params), extra_headers=headers or {})
        try:
            frame = await recv_json(ws)
            self.assert_error_frame(frame, code)
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                extra = await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.fail(f"a frame after the refusal: {extra!r}")
            await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
            self.assertEqual(ws.close_code, close)
            self.assertEqual(ws.close_reason, "unauthorized" if close == 4401 else "forbidden")
        finally:
            await ws.close()
        return frame

    async def ping_pong(self, ws) -> None:
        """A round trip: anything queued for `ws` before it arrives first."""
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        # Keys are made and tokens signed with the openssl command, which
        # blocks the loop for a moment: not worth a slow-callback report.
        asyncio.get_running_loop().slow_callback_duration = 2.0
        if self.bystander:
            self.bystander_ws, _ = await self.connect_token(self.token(["bystander"]))

    async def asyncTearDown(self) -> None:
        try:
            if self.bystander and self.server.running():
                # The client that was there all along...
                [seq] = await self.publish_ok(notification("bystander", "still-served"))
                self.assertEqual(await recv_json(self.bystander_ws),
                                 {"seq": seq, "collection": "bystander", "action": "still-served"})
                # ...and a newcomer.
                ws, _ = await self.connect_token(self.token(["probe"]), "collections=probe")
                [seq] = await self.publish_ok(notification("probe", "check"))
                self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "probe", "action": "check"})
        finally:
            await super().asyncTearDown()


class Hs256SubscriberTest(SecurityTestCase):
    """--jwt-secret with issuer, audience, publish keys and an allowed origin."""

    publish_key = FLAG_KEYS[0]

    @classmethod
    def setUpClass(cls) -> None:
        cls._tmp = tempfile.TemporaryDirectory(prefix="notifier-sec-")
        cls.addClassCleanup(cls._tmp.cleanup)
        keys_file = Path(cls._tmp.name) / "publish-keys"
        keys_file.write_text(f"# comment lines and blank lines are skipped\n\n{FILE_KEY}\n")
        cls.server_flags = ("--jwt-secret", SECRET, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
                            "--publish-key", FLAG_KEYS[0], "--publish-key", FLAG_KEYS[1],
                            "--publish-keys-file", str(keys_file), "--allow-origin", APP_ORIGIN)
        super().setUpClass()

    # --- presenting a token ---

    async def test_token_in_query(self):
        ws, welcome = await self.connect_token(self.token(["forums"]))
        self.assertIs(welcome["resumed"], False)
        [seq] = await self.publish_ok(notification("forums", id=1))
        self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "forums", "action": "create", "id": "1"})

    async def test_token_in_authorization_header(self):
        for scheme in ("Bearer", "bearer"):
            with self.subTest(scheme=scheme):
                ws = await ws_connect(self.server, "collections=forums",
                                      extra_headers={"Authorization": f"{scheme} {self.token(['forums'])}"})
                self.addAsyncCleanup(self._close_ws, ws)
                self.assertEqual((await recv_json(ws))["type"], "welcome")
                [seq] = await self.publish_ok(notification("forums", "header"))
                self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_query_token_takes_precedence_over_header(self):
        good, bad = self.token(["forums"]), hs256(claims(["forums"]), "not-the-secret")
        ws, _ = await self.connect_token(good, extra_headers={"Authorization": f"Bearer {bad}"})
        await self.ping_pong(ws)
        await self.assert_refused(bad, 401, "invalid_signature", headers={"Authorization": f"Bearer {good}"})

    async def test_missing_token_401(self):
        await self.assert_refused(None, 401, "unauthorized")
        await self.assert_refused("", 401, "unauthorized")
        await self.assert_refused(None, 401, "unauthorized", headers={"Authorization": "Bearer "})
        await self.assert_refused(None, 401, "unauthorized", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        await self.assert_refused(None, 401, "unauthorized", headers={"Authorization": self.token(["*"])})
        await self.assert_refused(None, 401, "unauthorized", query="collections=forums")

    async def test_wrong_signature_401(self):
        await self.assert_refused(hs256(claims(["*"]), "another-secret-entirely-0000"), 401, "invalid_signature")
        await self.assert_refused(hs256(claims(["*"]), SECRET + "x"), 401, "invalid_signature")

    async def test_alg_none_401(self):
        for alg in ("none", "None", "NONE"):
            with self.subTest(alg=alg):
                unsigned = encode_jwt({"alg": alg, "typ": "JWT"}, claims(["*"]), None)
                self.assertTrue(unsigned.endswith("."))
                await self.assert_refused(unsigned, 401, "wrong_algorithm")
                await self.assert_refused(unsigned[:-1], 401, "invalid_token")  # no signature part at all
        # A valid MAC does not make alg none acceptable.
        await self.assert_refused(hs256(claims(["*"]), header={"alg": "none"}), 401, "wrong_algorithm")

    async def test_rs256_token_on_hs256_server_401(self):
        await self.assert_refused(key("rsa").token(claims(["*"])), 401, "wrong_algorithm")
        await self.assert_refused(key("ec").token(claims(["*"])), 401, "wrong_algorithm")

    async def test_expired_401(self):
        await self.assert_refused(self.token(["*"], exp_in=-60), 401, "expired")
        await self.assert_refused(self.token(["*"], exp_in=-86400), 401, "expired")

    async def test_not_yet_valid_401(self):
        await self.assert_refused(self.token(["*"], nbf=int(time.time()) + 60), 401, "not_yet_valid")

    async def test_leeway(self):
        # Five seconds of clock difference are tolerated (options.jwt_leeway).
        ws, _ = await self.connect_token(self.token(["forums"], nbf=int(time.time()) + 2))
        await self.ping_pong(ws)
        ws2, welcome = await self.connect_token(self.token(["forums"], exp_in=-2))
        self.assertEqual(welcome["type"], "welcome")

    async def test_wrong_issuer_401(self):
        await self.assert_refused(self.token(["*"], iss="https://evil.test"), 401, "wrong_issuer")
        await self.assert_refused(self.token(["*"], iss=None), 401, "wrong_issuer")
        await self.assert_refused(self.token(["*"], iss=[ISSUER]), 401, "wrong_issuer")

    async def test_audience_string_and_array(self):
        for aud in ("another-service", ["another-service"], ["a", "b"], [], None, AUDIENCE.upper()):
            with self.subTest(aud=aud):
                await self.assert_refused(self.token(["*"], aud=aud), 401, "wrong_audience")
        for aud in ([AUDIENCE], ["another-service", AUDIENCE]):
            with self.subTest(aud=aud):
                ws, _ = await self.connect_token(self.token(["forums"], aud=aud))
                await self.ping_pong(ws)

    async def test_tampered_payload_401(self):
        good = self.token(["posts/7"])
        h, _, s = good.split(".")
        for forged in (claims(["*"]), claims(["posts/7"], exp_in=10 ** 6), claims(["posts/7", "posts/8"])):
            with self.subTest(forged=forged):
                await self.assert_refused(f"{h}.{b64url(compact_json(forged))}.{s}", 401, "invalid_signature")
        # The untouched token is fine.
        ws, _ = await self.connect_token(good)
        await self.ping_pong(ws)

    async def test_malformed_tokens_401(self):
        good = self.token(["*"])
        h, p, s = good.split(".")
        cases = {
            "two parts": f"{h}.{p}",
            "four parts": f"{h}.{p}.{s}.{s}",
            "one part": h,
            "bad base64": f"{h}.{p}!.{s}",
            "standard base64 with padding": base64.b64encode(b'{"alg":"HS256"} ').decode() + f".{p}.{s}",
            "header not json": f"{b64url(b'HS256')}.{p}.{s}",
            "payload not json": hs256(b"this is not json"),
            "payload an array": hs256(b'["*"]'),
            "huge": "x" * 6000 + "." + "y" * 10 + "." + "z" * 10,
            "dots only": "..",
        }
        for name, token in cases.items():
            with self.subTest(name=name):
                await self.assert_refused(token, 401, "invalid_token")

    async def test_oversized_token_431(self):
        big = self.token(["*"], pad="p" * 20000)
        await self.assert_refused_before_upgrade(big, 431, "header_too_large")
        res = await self.handshake("/ws", {"Authorization": f"Bearer {big}"})
        self.assert_error_body(res, 431, "header_too_large")

    # --- what a token grants ---

    async def test_no_read_claim_reads_nothing(self):
        control, _ = await self.connect_token(self.token(["*"]))
        for payload in (claims(None), claims(None, notifier={}), claims([])):
            with self.subTest(payload=payload):
                token = self.sign(payload)
                ws, _ = await self.connect_token(token)
                seqs = await self.publish_ok([notification("posts", id=7), notification("forums"),
                                              notification("secret", id="x")])
                # Fanned out (the control client got them)...
                self.assertEqual([(await recv_json(control))["seq"] for _ in seqs], seqs)
                # ...and nothing reached the token without rights.
                await self.ping_pong(ws)
                for entries in (["posts"], ["posts/7"], ["*"]):
                    await ws.send(json.dumps({"type": "subscribe", "collections": entries}))
                    self.assert_error_frame(await recv_json(ws), "forbidden")
                await self.ping_pong(ws)
                for q in ("collections=posts", "collections=*", "collections=posts/7"):
                    await self.assert_refused(token, 403, "forbidden", query=q)

    async def test_forbidden_collection_at_connect_403(self):
        token = self.token(["forums", "posts/7"])
        for q in ("collections=users", "collections=forums,users", "collections=*", "collections=forums,posts"):
            with self.subTest(q=q):
                frame = await self.assert_refused(token, 403, "forbidden", query=q)
                self.assertIn("not allowed to read", frame["message"])
        ws, _ = await self.connect_token(token, "collections=forums,posts/7")
        await self.ping_pong(ws)

    async def test_forbidden_collection_at_run_time(self):
        ws, _ = await self.connect_token(self.token(["forums", "posts/7"]), "collections=forums")
        for entries in (["users"], ["posts/7", "users"], ["*"], ["posts"]):
            with self.subTest(entries=entries):
                await ws.send(json.dumps({"type": "subscribe", "collections": entries}))
                err = await recv_json(ws)
                self.assert_error_frame(err, "forbidden")
        # The set is unchanged: only forums, and posts/7 was not half-added.
        await ws.send(json.dumps({"type": "unsubscribe", "collections": []}))
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})
        seqs = await self.publish_ok([notification("users", id=1), notification("posts", id=7),
                                      notification("forums", "marker")])
        self.assertEqual(await frames_before_marker(ws, seqs[-1]), [])
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts/7"]}))
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums", "posts/7"]})

    async def test_forbidden_record_id(self):
        token = self.token(["posts/7"])
        await self.assert_refused(token, 403, "forbidden", query="collections=posts/8")
        await self.assert_refused(token, 403, "forbidden", query="collections=posts")
        await self.assert_refused(token, 403, "forbidden", query="collections=posts/7,posts/8")
        ws, _ = await self.connect_token(token, "collections=posts/7")
        for entries in (["posts/8"], ["posts"], ["posts/70"], ["posts/7/comments"]):
            with self.subTest(entries=entries):
                await ws.send(json.dumps({"type": "subscribe", "collections": entries}))
                self.assert_error_frame(await recv_json(ws), "forbidden")
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts/7"]}))
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["posts/7"]})

    async def test_other_records_are_not_delivered(self):
        implicit, _ = await self.connect_token(self.token(["posts/7"]))
        explicit, _ = await self.connect_token(self.token(["posts/7"]), "collections=posts/7")
        control, _ = await self.connect_token(self.token(["posts"]), "collections=posts")
        seqs = await self.publish_ok([
            notification("posts", "update", id=8, data={"title": "someone else's"}),
            notification("posts", "purge"),  # collection-wide: not the record's
            notification("posts", "update", id=70),
            notification("forums", "update", id=7),
            notification("posts", "update", id=7, data={"marker": True}),
        ])
        marker = seqs[-1]
        for ws in (implicit, explicit):
            self.assertEqual(await frames_before_marker(ws, marker), [])
        got = await frames_before_marker(control, marker)
        self.assertEqual([f["seq"] for f in got], [seqs[0], seqs[1], seqs[2]])

    async def test_resume_replays_only_permitted(self):
        token = self.token(["posts/7", "forums"])
        ws, welcome = await self.connect_token(token)
        epoch, since = welcome["epoch"], welcome["seq"]
        await ws.close()
        seqs = await self.publish_ok([
            notification("posts", id=7),
            notification("posts", id=8),
            notification("posts"),
            notification("forums", id=1),
            notification("secret", id=1),
            notification("posts", "update", id=7),
        ])
        resume = f"since={since}&epoch={epoch}"
        implicit, w = await self.connect_token(token, resume)
        self.assertEqual((w["resumed"], w["seq"]), (True, seqs[-1]))
        explicit, w2 = await self.connect_token(token, "collections=posts/7&" + resume)
        self.assertIs(w2["resumed"], True)
        everything, _ = await self.connect_token(self.token(["*"]), resume)
        [marker] = await self.publish_ok(notification("posts", "marker", id=7))
        self.assertEqual([f["seq"] for f in await frames_before_marker(implicit, marker)],
                         [seqs[0], seqs[3], seqs[5]])
        self.assertEqual([f["seq"] for f in await frames_before_marker(explicit, marker)], [seqs[0], seqs[5]])
        # The history did hold the others.
        self.assertEqual([f["seq"] for f in await frames_before_marker(everything, marker)], seqs)

    # --- refreshing the token ---

    async def test_refresh_narrowing_drops_subscriptions(self):
        ws, _ = await self.connect_token(self.token(["forums", "posts"]))
        [seq] = await self.publish_ok(notification("posts", id=1))
        self.assertEqual((await recv_json(ws))["seq"], seq)
        await self.refresh_narrowing(ws, ["forums"], ["forums"])
        seqs = await self.publish_ok([notification("posts", id=2), notification("forums", id=3)])
        self.assertEqual(await frames_before_marker(ws, seqs[-1]), [])
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts"]}))
        self.assert_error_frame(await recv_json(ws), "forbidden")

    async def test_refresh_narrowing_explicit_record(self):
        ws, _ = await self.connect_token(self.token(["posts"]), "collections=posts/7,posts/9")
        await self.refresh_narrowing(ws, ["posts/9"], ["posts/9"])
        seqs = await self.publish_ok([notification("posts", id=7), notification("posts", id=9)])
        self.assertEqual(await frames_before_marker(ws, seqs[-1]), [])

    async def test_refresh_widening_keeps_subscriptions(self):
        ws, _ = await self.connect_token(self.token(["forums"]), "collections=forums")
        wider = claims(["forums", "posts"], exp_in=None)
        await ws.send(json.dumps({"type": "auth", "token": self.sign(wider)}))
        self.assertEqual(await recv_json(ws), {"type": "authenticated", "exp": 0})  # 0: no exp
        await self.ping_pong(ws)  # no subscribed frame: nothing was dropped
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts"]}))
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums", "posts"]})

    async def test_invalid_refresh_keeps_connection_and_old_rights(self):
        ws, _ = await self.connect_token(self.token(["forums"]), "collections=forums")
        bad = {
            "invalid_signature": hs256(claims(["*"]), "not-the-secret"),
            "expired": self.token(["*"], exp_in=-60),
            "not_yet_valid": self.token(["*"], nbf=int(time.time()) + 60),
            "wrong_algorithm": encode_jwt({"alg": "none"}, claims(["*"]), None),
            "wrong_audience": self.token(["*"], aud="else"),
            "wrong_issuer": self.token(["*"], iss="else"),
            "invalid_token": "garbage",
        }
        for code, token in bad.items():
            with self.subTest(code=code):
                await ws.send(json.dumps({"type": "auth", "token": token}))
                self.assert_error_frame(await recv_json(ws), code)
        for text in ('{"type":"auth"}', '{"type":"auth","token":5}'):
            await ws.send(text)
            self.assert_error_frame(await recv_json(ws), "invalid_message")
        [seq] = await self.publish_ok(notification("forums", "still"))
        self.assertEqual((await recv_json(ws))["seq"], seq)
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts"]}))
        self.assert_error_frame(await recv_json(ws), "forbidden")

    async def test_refs_are_echoed_in_auth_answers(self):
        ws, _ = await self.connect_token(self.token(["forums", "posts"]), "collections=forums,posts")
        narrower = claims(["forums"])
        await ws.send(json.dumps({"type": "auth", "token": self.sign(narrower), "ref": "a-1"}))
        self.assertEqual(await recv_json(ws), {"type": "authenticated", "exp": narrower["exp"], "ref": "a-1"})
        # The dropped entries: a notice, not an answer, so no ref.
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})
        await ws.send(json.dumps({"type": "auth", "token": "garbage", "ref": 2}))
        err = await recv_json(ws)
        self.assertEqual((err["type"], err["code"], err["ref"]), ("error", "invalid_token", 2))
        await ws.send(json.dumps({"type": "subscribe", "collections": ["posts"], "ref": 3}))
        err = await recv_json(ws)
        self.assertEqual((err["type"], err["code"], err["ref"]), ("error", "forbidden", 3))

    async def test_expiry_closes_4001(self):
        exp = int(time.time()) + 2
        expiring, _ = await self.connect_token(self.token(["forums"], exp=exp, exp_in=None))
        refreshed, _ = await self.connect_token(self.token(["forums"], exp=exp, exp_in=None))
        later = claims(["forums"])
        await refreshed.send(json.dumps({"type": "auth", "token": self.sign(later)}))
        self.assertEqual(await recv_json(refreshed), {"type": "authenticated", "exp": later["exp"]})
        unlimited, _ = await self.connect_token(self.token(["forums"], exp_in=None))
        # Beyond int64: held as "never" (adding the leeway must not wrap around).
        far, _ = await self.connect_token(self.token(["forums"], exp=10**19, exp_in=None))
        code, reason = await wait_closed(expiring, timeout=10)
        self.assertEqual((code, reason), (4001, "token expired"))
        # Checked on the same timer tick: the others would be gone as well.
        await self.ping_pong(refreshed)
        await self.ping_pong(unlimited)
        await self.ping_pong(far)

    # --- publishers ---

    async def test_publish_key(self):
        ws, _ = await self.connect_token(self.token(["pub"]), "collections=pub")
        body = json.dumps(notification("pub", "refused"))
        wrong = {
            "missing": None,
            "unknown key": "Bearer publish-key-charlie-0123456789",
            "prefix of a key": f"Bearer {FLAG_KEYS[0][:-1]}",
            "key plus a character": f"Bearer {FLAG_KEYS[0]}x",
            "other case": f"Bearer {FLAG_KEYS[0].upper()}",
            "no scheme": FLAG_KEYS[0],
            "basic scheme": f"Basic {FLAG_KEYS[0]}",
            "empty bearer": "Bearer ",
            "subscriber token": f"Bearer {self.token(['*'])}",
        }
        for name, auth in wrong.items():
            with self.subTest(name=name):
                headers = dict(JSON_HEADERS)
                if auth is not None:
                    headers["Authorization"] = auth
                res = await asyncio.to_thread(post_publish, self.port, None, raw=body, headers=headers)
                self.assert_error_body(res, 401, "unauthorized")
                self.assertEqual(res.header("www-authenticate"), "Bearer")
        accepted = []
        for k in (*FLAG_KEYS, FILE_KEY):
            res = await asyncio.to_thread(post_publish, self.port, notification("pub", "accepted", id=k[:20]),
                                          headers={**JSON_HEADERS, "Authorization": f"Bearer {k}"})
            self.assertEqual(res.status, 202, (k, res.body))
            accepted += res.json()["seqs"]
        # Refused requests took no seq and reached nobody.
        self.assertEqual(accepted, list(range(accepted[0], accepted[0] + 3)))
        got = [await recv_json(ws) for _ in accepted]
        self.assertEqual([(f["seq"], f["action"]) for f in got], [(s, "accepted") for s in accepted])

    # --- browsers ---

    async def test_foreign_origin_403(self):
        token = self.token(["*"])
        other_port = self.port % 60000 + 1
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{other_port}", "http://127.0.0.1",
                       "https://app.example.evil", "https://app.example:8443", "http://app.example",
                       f"http://127.0.0.1:{self.port}.evil.example"):
            with self.subTest(origin=origin):
                await self.assert_refused_before_upgrade(token, 403, "forbidden_origin", headers={"Origin": origin})
        # Checked before the token: no token needed to be refused.
        await self.assert_refused_before_upgrade(None, 403, "forbidden_origin", headers={"Origin": "http://evil.example"})

    async def test_refusals_are_logged_at_info_without_the_token(self):
        token = self.token(["forums"])
        await self.assert_refused(token, 403, "forbidden", query="collections=users")
        await self.assert_refused_before_upgrade(token, 403, "forbidden_origin", headers={"Origin": "http://evil.example"})
        expired = self.token(["*"], exp_in=-60)
        await self.assert_refused(expired, 401, "expired")
        # The refused client is told first; the log line follows on the
        # server's side: wait for the last one.
        def logged() -> str:
            return self.server.stderr()
        for needle in ("level=info event=forbidden remote=127.0.0.1 stage=handshake code=forbidden",
                       "level=info event=forbidden_origin remote=127.0.0.1 origin=http://evil.example",
                       "level=info event=auth_failure remote=127.0.0.1 stage=handshake code=expired"):
            deadline = time.monotonic() + TIMEOUT
            while needle not in logged() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            self.assertIn(needle, logged())
        for secret in (token, expired, token.split(".")[2], expired.split(".")[2]):
            self.assertNotIn(secret, logged())

    async def test_allowed_origins(self):
        target = "/ws?token=" + self.token(["forums"])
        for origin in (f"http://127.0.0.1:{self.port}", f"https://127.0.0.1:{self.port}", APP_ORIGIN, None):
            with self.subTest(origin=origin):
                raw = self.raw(target, headers={"Origin": origin} if origin else None)
                self.assertEqual(raw.recv_json()["type"], "welcome")
        # Behind a proxy that passes Host through, the public origin is the own one.
        raw = self.raw(target, headers={"Host": "notifier.example", "Origin": "https://notifier.example"})
        self.assertEqual(raw.recv_json()["type"], "welcome")


class LargeClaimTest(SecurityTestCase):
    """A token that reads hundreds of entries and subscribe frames of
    thousands: every entry is checked against the claim, all or nothing."""

    server_flags = ("--jwt-secret", SECRET, "--max-header-bytes", "16384", "--max-subscriptions", "100000")

    async def test_large_claim_and_large_subscribe_frames(self):
        read = [f"c{i}" for i in range(760)]
        token = self.token(read)
        self.assertLessEqual(len(token), 8192)
        ws, _ = await self.connect_token(token, "collections=")
        held: set[str] = set()
        for n in range(3):
            entries = [f"c{i % 760}/{n}.{i}" for i in range(4000)]
            text = json.dumps({"type": "subscribe", "collections": entries + entries[:100]})  # some twice
            self.assertLess(len(text), 65536)
            await ws.send(text)
            held.update(entries)
            self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": sorted(held)})
        # One entry outside the claim, last in a large frame: refused whole.
        await ws.send(json.dumps({"type": "subscribe", "collections": [f"c{i % 760}/9.{i}" for i in range(3000)] +
                                  ["c760/1"]}))
        err = await recv_json(ws)
        self.assert_error_frame(err, "forbidden")
        self.assertIn('"c760/1"', err["message"])
        await ws.send('{"type":"unsubscribe","collections":[]}')
        self.assertEqual(len((await recv_json(ws))["collections"]), len(held))
        seqs = await self.publish_ok([notification("c760", id="1"), notification("c5", id="9.5"),
                                      notification("c5", id="0.5")])
        self.assertEqual([f["seq"] for f in await frames_before_marker(ws, seqs[-1])], [])


class PublicKeySubscriberTest(SecurityTestCase):
    """--jwt-public-key with the public half of key(key_name); tokens signed
    with its private half."""

    key_name = ""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server_flags = ("--jwt-public-key", str(key(cls.key_name).public))
        super().setUpClass()

    @classmethod
    def sign(cls, payload: dict | bytes) -> str:
        return key(cls.key_name).token(payload)


class Rs256SubscriberTest(PublicKeySubscriberTest):
    """--jwt-public-key with an RSA key: RS256 only."""

    key_name = "rsa"

    async def test_valid_rs256_token(self):
        ws, _ = await self.connect_token(self.token(["forums"]))
        [seq] = await self.publish_ok(notification("forums"))
        self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_signed_by_another_key_401(self):
        await self.assert_refused(key("rsa-other").token(claims(["*"])), 401, "invalid_signature")

    async def test_tampered_payload_401(self):
        h, _, s = self.token(["posts/7"]).split(".")
        await self.assert_refused(f"{h}.{b64url(compact_json(claims(['*'])))}.{s}", 401, "invalid_signature")

    async def test_hs256_signed_with_the_public_key_401(self):
        pem = key("rsa").public_pem
        for secret in (pem, pem.rstrip(b"\n")):
            await self.assert_refused(hs256(claims(["*"]), secret), 401, "wrong_algorithm")
            # The same MAC presented as an RS256 signature.
            await self.assert_refused(hs256(claims(["*"]), secret, header={"alg": "RS256"}), 401,
                                      "invalid_signature")

    async def test_other_algorithms_401(self):
        await self.assert_refused(key("ec").token(claims(["*"])), 401, "wrong_algorithm")
        await self.assert_refused(hs256(claims(["*"])), 401, "wrong_algorithm")
        await self.assert_refused(encode_jwt({"alg": "none"}, claims(["*"]), None), 401, "wrong_algorithm")

    async def test_refresh(self):
        ws, _ = await self.connect_token(self.token(["forums", "posts"]))
        await self.refresh_narrowing(ws, ["forums"], ["forums"])
        await ws.send(json.dumps({"type": "auth", "token": key("rsa-other").token(claims(["*"]))}))
        self.assert_error_frame(await recv_json(ws), "invalid_signature")


class Es256SubscriberTest(PublicKeySubscriberTest):
    """--jwt-public-key with a P-256 key: ES256 only."""

    key_name = "ec"

    async def test_valid_es256_token(self):
        # ECDSA signatures are randomised: a few, so short r/s get exercised.
        for i in range(5):
            ws, _ = await self.connect_token(self.token(["forums"]))
            [seq] = await self.publish_ok(notification("forums", id=i))
            self.assertEqual((await recv_json(ws))["seq"], seq)
            await ws.close()

    async def test_signed_by_another_key_401(self):
        await self.assert_refused(key("ec-other").token(claims(["*"])), 401, "invalid_signature")

    async def test_der_signature_is_refused_401(self):
        # JWS wants r || s; the DER encoding openssl prints is not a JWS signature.
        k = key("ec")
        token = encode_jwt({"alg": "ES256"}, claims(["*"]), k.sign_der)
        await self.assert_refused(token, 401, "invalid_signature")

    async def test_tampered_payload_401(self):
        h, _, s = self.token(["posts/7"]).split(".")
        await self.assert_refused(f"{h}.{b64url(compact_json(claims(['posts'])))}.{s}", 401, "invalid_signature")

    async def test_other_algorithms_401(self):
        await self.assert_refused(key("rsa").token(claims(["*"])), 401, "wrong_algorithm")
        await self.assert_refused(hs256(claims(["*"]), key("ec").public_pem), 401, "wrong_algorithm")
        await self.assert_refused(encode_jwt({"alg": "none"}, claims(["*"]), None), 401, "wrong_algorithm")


class MessageRateTest(ServerTestCase):
    """--max-messages-per-second 5 --message-burst 10, no authentication."""

    server_flags = ("--max-messages-per-second", "5", "--message-burst", "10")

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.bystander_ws, _ = await self.connect("collections=bystander")

    async def asyncTearDown(self) -> None:
        try:
            if self.server.running():
                [seq] = await self.publish(notification("bystander", "still-served"))
                self.assertEqual(await recv_json(self.bystander_ws),
                                 {"seq": seq, "collection": "bystander", "action": "still-served"})
                await self.assert_serves()
        finally:
            await super().asyncTearDown()

    @staticmethod
    def pings(n: int) -> bytes:
        return b"".join(encode_frame(OP_TEXT, b'{"type":"ping"}') for _ in range(n))

    async def test_burst_then_refusal_then_close_1008(self):
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        raw.send_raw(self.pings(11))
        self.assertEqual([raw.recv_json() for _ in range(10)], [{"type": "pong"}] * 10)
        self.assert_error_frame(raw.recv_json(), "rate_limited")
        # Sustained excess: a burst's worth of refusals in a row closes.
        raw.send_raw(self.pings(20))
        code, reason, before = raw.expect_close()
        self.assertEqual((code, reason), (1008, "message rate exceeded"))
        frames = [f.json() for f in before if f.opcode == OP_TEXT]
        self.assertTrue(any(is_error(f, "rate_limited") for f in frames), frames)
        for f in frames:
            self.assertTrue(f == {"type": "pong"} or is_error(f, "rate_limited"), f)
        raw.expect_eof()

    async def test_refused_message_leaves_the_connection_open(self):
        raw = self.raw("/ws?collections=rate")
        self.assertEqual(raw.recv_json()["type"], "welcome")
        raw.send_raw(self.pings(11))
        self.assertEqual([raw.recv_json() for _ in range(10)], [{"type": "pong"}] * 10)
        self.assert_error_frame(raw.recv_json(), "rate_limited")
        # Still subscribed and delivered to.
        [seq] = await self.publish(notification("rate", "delivered"))
        self.assertEqual(raw.recv_json()["seq"], seq)
        # Close frames are not rate limited: the close handshake completes.
        raw.send_close(1000)
        code, _, _ = raw.expect_close()
        self.assertEqual(code, 1000)

    async def test_auth_without_authentication_configured(self):
        ws, _ = await self.connect()
        await ws.send(json.dumps({"type": "auth", "token": hs256(claims(["*"]))}))
        self.assert_error_frame(await recv_json(ws), "auth_disabled")


class ConnectionLimitTest(ServerTestCase):
    """--max-connections 3 with --jwt-secret."""

    server_flags = ("--jwt-secret", SECRET, "--max-connections", "3")

    async def ws(self, collections: str = "lim"):
        q = f"token={hs256(claims(['*']))}&collections={collections}"
        ws = await ws_connect(self.server, q)
        self.assertEqual((await recv_json(ws))["type"], "welcome")
        return ws

    async def close_all(self, *clients) -> None:
        for ws in clients:
            await ws.close()  # returns once the server has closed the TCP connection

    def refused_503(self, source: str | None = None) -> HttpResponse:
        res = exchange_to_eof(self.port, None, source=source)
        self.assertEqual(res.status, 503, res)
        self.assertEqual(json.loads(res.body)["error"], "too_many_connections")
        return res

    async def test_fourth_connection_gets_503(self):
        ws1, ws2 = await self.ws(), await self.ws()
        publisher = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            self.assertEqual(http_request(self.port, "GET", "/healthz", conn=publisher).status, 200)
            await asyncio.to_thread(self.refused_503)
            # A library client is refused as well, whichever way it notices.
            with self.assertRaises((websockets.exceptions.InvalidHandshake, OSError, asyncio.TimeoutError)):
                extra = await ws_connect(self.server, f"token={hs256(claims(['*']))}")
                await extra.close()
            # The three in use keep working.
            res = await asyncio.to_thread(post_publish, self.port, notification("lim", "after"), publisher)
            self.assertEqual(res.status, 202, res.body)
            [seq] = res.json()["seqs"]
            for ws in (ws1, ws2):
                self.assertEqual((await recv_json(ws))["seq"], seq)
            await ws1.send('{"type":"ping"}')
            self.assertEqual(await recv_json(ws1), {"type": "pong"})
            # A slot given back is usable again.
            await ws2.close()
            ws3 = await self.ws()
            res = await asyncio.to_thread(post_publish, self.port, notification("lim", "again"), publisher)
            [seq] = res.json()["seqs"]
            for ws in (ws1, ws3):
                self.assertEqual((await recv_json(ws))["seq"], seq)
            await self.close_all(ws3)
        finally:
            await asyncio.to_thread(close_and_wait, publisher)
            await self.close_all(ws1, ws2)

    async def test_503_content_length_matches_body(self):
        socks = [socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) for _ in range(3)]
        try:
            for s in socks:  # each answered: each holds a slot
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
            res = await asyncio.to_thread(exchange_to_eof, self.port, None)
            self.assertEqual(int(res.header("content-length")), len(res.body), res)
        finally:
            for s in socks:
                release(s)

    async def test_refused_handshakes_hold_no_slot(self):
        forbidden = hs256(claims(["forums"]))
        refusals = [
            ("/ws", {}, 4401),                                             # no token
            ("/ws?token=garbage", {}, 4401),                               # bad token
            (f"/ws?token={hs256(claims(['*']), 'wrong-secret')}", {}, 4401),
            (f"/ws?token={forbidden}&collections=posts", {}, 4403),        # forbidden collection
            (f"/ws?token={forbidden}", {"Origin": "http://evil.example"}, 403),
        ] * 2
        for target, headers, status in refusals:
            res = await asyncio.to_thread(exchange_to_eof, self.port, upgrade_request(self.port, target, headers))
            if status > 1000:
                self.assertTrue(closes_after_upgrade(res, status), (target, res))
            else:
                self.assertEqual(res.status, status, (target, res))
        # Every slot is free again: three sessions fit, a fourth does not.
        clients = [await self.ws() for _ in range(3)]
        try:
            await asyncio.to_thread(self.refused_503)
        finally:
            await self.close_all(*clients)
        ws = await self.ws()
        await self.close_all(ws)


class PerIpLimitTest(ServerTestCase):
    """--limit-loopback --max-connections-per-ip 2: 127.0.0.1 and 127.0.0.2
    are two client IPs."""

    server_flags = ("--limit-loopback", "--max-connections-per-ip", "2")

    async def test_third_connection_from_one_ip_gets_503(self):
        ws1, _ = await self.connect("collections=ip")
        ws2, _ = await self.connect("collections=ip")
        res = await asyncio.to_thread(exchange_to_eof, self.port, None)
        self.assertEqual(res.status, 503, res)
        self.assertEqual(json.loads(res.body)["error"], "too_many_connections")
        # Another IP is not affected.
        other = self.raw("/ws?collections=ip", source="127.0.0.2")
        self.assertEqual(other.recv_json()["type"], "welcome")
        publisher = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT,
                                               source_address=("127.0.0.2", 0))
        try:
            res = await asyncio.to_thread(post_publish, self.port, notification("ip", "after"), publisher)
            self.assertEqual(res.status, 202, res.body)
            [seq] = res.json()["seqs"]
            for ws in (ws1, ws2):
                self.assertEqual((await recv_json(ws))["seq"], seq)
            self.assertEqual(other.recv_json()["seq"], seq)
            # The third from 127.0.0.2 is refused too.
            res = await asyncio.to_thread(exchange_to_eof, self.port, None, "127.0.0.2")
            self.assertEqual(res.status, 503, res)
            # Closing one frees one slot of that IP.
            await ws2.close()
            ws3, _ = await self.connect("collections=ip")
            res = await asyncio.to_thread(post_publish, self.port, notification("ip", "again"), publisher)
            [seq] = res.json()["seqs"]
            for ws in (ws1, ws3):
                self.assertEqual((await recv_json(ws))["seq"], seq)
        finally:
            await asyncio.to_thread(close_and_wait, publisher)


class LoopbackExemptTest(ServerTestCase):
    """--max-connections-per-ip 1 without --limit-loopback; --handshake-timeout 1."""

    server_flags = ("--max-connections-per-ip", "1", "--handshake-timeout", "1")

    async def test_loopback_is_not_limited_per_ip(self):
        clients = [(await self.connect("collections=lo"))[0] for _ in range(3)]
        [seq] = await self.publish(notification("lo", "all"))
        for ws in clients:
            self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_silent_connections_are_dropped(self):
        ws, _ = await self.connect("collections=lo")

        def dropped(data: bytes) -> bytes:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
            try:
                s.sendall(data)
                return s.recv(4096)  # EOF after about a second, well before TIMEOUT
            finally:
                s.close()

        start = time.monotonic()
        got = await asyncio.gather(*(asyncio.to_thread(dropped, data)
                                     for data in (b"", b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")))
        self.assertEqual(got, [b"", b""])
        self.assertLess(time.monotonic() - start, TIMEOUT)
        # An upgraded connection is not subject to the handshake timeout.
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})


@unittest.skipUnless(socket.has_ipv6, "no IPv6")
class DualStackLoopbackTest(unittest.TestCase):
    """Listening on [::]: IPv4 loopback clients arrive as ::ffff:127.0.0.1."""

    def setUp(self) -> None:
        try:
            self.server = NotifierServer("--jwt-secret", SECRET, "--publish-key", FLAG_KEYS[0],
                                         "--max-connections-per-ip", "1", listen="[::]:0").start()
        except AssertionError as e:
            self.skipTest(f"cannot listen on [::]: {e}")
        self.addCleanup(self.server.stop)

    def test_ipv4_loopback_is_exempt_on_a_dual_stack_listener(self):
        held = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)
        try:
            self.assertEqual(http_request(self.server.port, "GET", "/healthz", conn=held).status, 200)
            res = exchange_to_eof(self.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(res.status, 200, res)
        finally:
            close_and_wait(held)

    def test_ipv6_loopback_is_exempt(self):
        conns = [http.client.HTTPConnection("::1", self.server.port, timeout=TIMEOUT) for _ in range(2)]
        try:
            for c in conns:
                c.request("GET", "/healthz")
                res = c.getresponse()
                res.read()
                self.assertEqual(res.status, 200)
        finally:
            for c in conns:
                c.close()


class StartupSafetyTest(unittest.TestCase):
    """Safe defaults of notifierd (apps/notifierd/config.cpp)."""

    WARNING = "WITHOUT AUTHENTICATION"

    def run_refused(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        full_env.update(env or {})
        return subprocess.run([notifierd_path(), *args], capture_output=True, text=True, timeout=TIMEOUT * 2,
                              env=full_env)

    def start(self, *flags: str, listen: str = "0.0.0.0:0", env: dict[str, str] | None = None) -> NotifierServer:
        server = NotifierServer(*flags, listen=listen, env=env).start()
        self.addCleanup(server.kill)
        return server

    def test_public_listen_without_auth_is_refused(self):
        for listen in ("0.0.0.0:0", ":0", "[::]:0"):
            with self.subTest(listen=listen):
                r = self.run_refused("--listen", listen)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("refusing to listen", r.stderr)
                self.assertIn("--insecure", r.stderr)
                self.assertEqual(r.stdout, "")

    def test_insecure_allows_public_listen_with_a_warning(self):
        server = self.start("--insecure")
        self.assertEqual(http_request(server.port, "GET", "/healthz").status, 200)
        server.stop()
        self.assertIn(self.WARNING, server.stderr())

    def test_jwt_secret_allows_public_listen(self):
        server = self.start("--jwt-secret", SECRET)
        self.assertTrue(closes_after_upgrade(exchange_to_eof(server.port, upgrade_request(server.port, "/ws", {})), 4401))
        server.stop()
        self.assertNotIn(self.WARNING, server.stderr())

    def test_jwt_secret_from_the_environment(self):
        server = self.start(env={"NOTIFIER_JWT_SECRET": SECRET})
        self.assertTrue(closes_after_upgrade(exchange_to_eof(server.port, upgrade_request(server.port, "/ws", {})), 4401))
        res = ws_handshake_http(server.port, "/ws?token=" + hs256(claims(["*"])))
        self.assertEqual(res.status, 101, res.body)
        server.stop()
        self.assertNotIn(self.WARNING, server.stderr())

    def test_loopback_without_auth_warns(self):
        server = self.start(listen="127.0.0.1:0")
        server.stop()
        self.assertIn(self.WARNING, server.stderr())

    def test_bad_security_configuration_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            garbage = Path(d) / "garbage.pem"
            garbage.write_text("not a key\n")
            cases = {
                "short publish key": ["--publish-key", "short"],
                "secret and public key": ["--jwt-secret", SECRET, "--jwt-public-key", str(key("rsa").public)],
                "missing key file": ["--jwt-public-key", str(Path(d) / "missing.pem")],
                "unusable key file": ["--jwt-public-key", str(garbage)],
                "missing keys file": ["--publish-keys-file", str(Path(d) / "missing")],
            }
            for name, args in cases.items():
                with self.subTest(name=name):
                    r = self.run_refused("--listen", "127.0.0.1:0", *args)
                    self.assertNotEqual(r.returncode, 0, r.stderr)
                    self.assertTrue(r.stderr.strip(), name)
                    self.assertNotIn("listening", r.stdout)


if __name__ == "__main__":
    unittest.main()
