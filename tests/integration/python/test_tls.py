# SPDX-License-Identifier: MIT
"""notifierd's own TLS (--tls-cert, --tls-key; docs/security.md) against
clients nobody here wrote: Python's ssl module under http.client, urllib
and websockets, and curl. Every client verifies the certificate the test
made with the openssl command (its own CA file, hostname checked), except
where a test is about a client that does not trust it.

Covered: wss delivery and resume, https publish, SSE, /healthz, /metrics
and static files over TLS; the certificate reloaded on SIGHUP (and a bad
new pair refused, the old one still served); plain HTTP on the TLS port;
ALPN; the oldest TLS version; a flood of stalled and aborted handshakes
beside a live client; a slow consumer's 4008 and a large burst over TLS;
the warning for a plain listener off loopback; the configuration's TLS
options and their refusals.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import websockets
import websockets.exceptions

from notifier_testlib import (
    JSON_HEADERS,
    TIMEOUT,
    Certificate,
    ClientHelpers,
    HttpResponse,
    NotifierServer,
    ServerTestCase,
    TlsNotifierServer,
    make_certificate,
    notification,
    notifierd_path,
    recv_json,
    wait_logged,
)
from test_config import clean_env
from test_metrics import Scrape
from test_security import exchange_to_eof, upgrade_request

TLS_REQUIRED = {"error": "tls_required", "message": "this port speaks TLS: use https:// or wss://"}

# --------------------------------------------------------------------------
# Certificates: made once per run, by name
# --------------------------------------------------------------------------

_cert_dir: tempfile.TemporaryDirectory | None = None
_certs: dict[str, Certificate] = {}


def cert(name: str) -> Certificate:
    """A certificate by name ("a", "b": CN notifier-a, notifier-b), made once."""
    global _cert_dir
    if name not in _certs:
        if _cert_dir is None:
            _cert_dir = tempfile.TemporaryDirectory(prefix="notifier-tls-")
        _certs[name] = make_certificate(Path(_cert_dir.name), name)
    return _certs[name]


def bundle(*names: str) -> Path:
    """A CA file trusting the named certificates."""
    cert(names[0])
    assert _cert_dir is not None
    path = Path(_cert_dir.name) / ("bundle-" + "-".join(names) + ".pem")
    if not path.exists():
        path.write_text("".join(cert(n).cert.read_text() for n in names))
    return path


def tearDownModule() -> None:
    if _cert_dir is not None:
        _cert_dir.cleanup()


def client_hello() -> bytes:
    """The bytes of a real TLS ClientHello (from an in-memory handshake)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[0] == 0x16 and len(hello) > 100, hello[:16]
    return hello


def peer_der(ws) -> bytes:
    """The certificate a websockets connection's handshake saw."""
    return ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)


def read_to_eof(sock: socket.socket, deadline: float) -> None:
    """Reads (and drops) until the peer ends the connection."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("the server did not end the connection")
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return
        except (ConnectionResetError, BrokenPipeError):
            return


# --------------------------------------------------------------------------
# Test cases
# --------------------------------------------------------------------------

class TlsHelpers(ClientHelpers):
    """ClientHelpers whose clients speak TLS to a TlsNotifierServer."""

    server: TlsNotifierServer

    async def connect(self, query: str = "", server: TlsNotifierServer | None = None, **kwargs):
        kwargs.setdefault("ssl", (server or self.server).context())
        return await super().connect(query, server=server, **kwargs)

    async def publish(self, payload, server: TlsNotifierServer | None = None) -> list[int]:
        return await asyncio.to_thread((server or self.server).publish, payload)

    async def http(self, method: str, path: str, body=None, headers=None,
                   server: TlsNotifierServer | None = None) -> HttpResponse:
        return await asyncio.to_thread((server or self.server).request, method, path, body, headers)

    def raw(self, target: str = "/ws", server: TlsNotifierServer | None = None, **kwargs):
        raw = (server or self.server).raw_websocket(target, **kwargs)
        self.addCleanup(raw.close_socket)
        return raw

    async def scrape(self) -> Scrape:
        res = await self.http("GET", "/metrics")
        self.assertEqual(res.status, 200, res.body)
        return Scrape(res.body.decode())

    async def metric_reaches(self, value: float, name: str, **labels) -> Scrape:
        """Scrapes until the sample reaches `value` (counted after the
        client saw the outcome, so it may lag a little); fails past TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            s = await self.scrape()
            if s.value(name, **labels) >= value or time.monotonic() > deadline:
                return s
            await asyncio.sleep(0.01)

    def handshakes(self, s: Scrape) -> dict[str, float]:
        return {r: s.value("notifier_tls_handshakes_total", result=r)
                for r in ("ok", "failed", "timeout", "plain_http")}


class TlsTestCase(TlsHelpers, ServerTestCase):
    """One TLS notifierd per class (certificate "a"), started with `server_flags`."""

    @classmethod
    def make_server(cls) -> TlsNotifierServer:
        return TlsNotifierServer(*cls.server_flags, cert=cert("a"))


class TlsServiceTest(TlsTestCase):
    """Every endpoint over TLS, on the default settings (and a static dir)."""

    INDEX = b"<!doctype html><title>notifier over TLS</title>"

    @classmethod
    def setUpClass(cls) -> None:
        cls.www = tempfile.TemporaryDirectory(prefix="notifier-www-")
        (Path(cls.www.name) / "index.html").write_bytes(cls.INDEX)
        cls.server_flags = ("--static-dir", cls.www.name)
        try:
            super().setUpClass()
        except BaseException:
            cls.www.cleanup()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            super().tearDownClass()
        finally:
            cls.www.cleanup()

    async def test_wss_delivery_and_resume_by_since_and_epoch(self):
        ws, welcome = await self.connect("collections=posts")
        self.assertEqual(peer_der(ws), cert("a").der)
        self.assertEqual(ws.transport.get_extra_info("ssl_object").version(), "TLSv1.3")
        first = notification("posts", "create", id="1", data={"title": "über", "n": 1})
        [s1] = await self.publish(first)
        self.assertEqual(await recv_json(ws), {"seq": s1, **first})
        await ws.close()

        missed = [notification("posts", "update", id="1", data={"n": 2}), notification("users", "create", id="9"),
                  notification("posts", "delete", id="1")]
        seqs = await self.publish(missed)
        ws2, w2 = await self.connect(f"collections=posts&since={s1}&epoch={welcome['epoch']}")
        self.assertEqual(w2, {"type": "welcome", "protocol": 1, "epoch": welcome["epoch"], "seq": seqs[-1],
                              "resumed": True})
        self.assertEqual(await recv_json(ws2), {"seq": seqs[0], **missed[0]})
        self.assertEqual(await recv_json(ws2), {"seq": seqs[2], **missed[2]})
        [live] = await self.publish(notification("posts", "live"))
        self.assertEqual(await recv_json(ws2), {"seq": live, "collection": "posts", "action": "live"})

    async def test_https_publish_with_urllib_and_curl(self):
        ws, _ = await self.connect("collections=pub")
        n1 = notification("pub", "create", id="u", data={"by": "urllib"})
        n2 = notification("pub", "create", id="c", data={"by": "curl"})

        def by_urllib(context: ssl.SSLContext) -> tuple[int, dict]:
            req = urllib.request.Request(self.server.url + "/publish", data=json.dumps(n1).encode(),
                                         headers=JSON_HEADERS, method="POST")
            with urllib.request.urlopen(req, context=context, timeout=TIMEOUT) as res:
                return res.status, json.loads(res.read())

        status, body = await asyncio.to_thread(by_urllib, self.server.context())
        self.assertEqual(status, 202, body)
        [s1] = body["seqs"]
        # Verification is real: without the test's CA the same request fails.
        with self.assertRaises(urllib.error.URLError) as caught:
            await asyncio.to_thread(by_urllib, ssl.create_default_context())
        self.assertIsInstance(caught.exception.reason, ssl.SSLCertVerificationError)

        curl = await asyncio.to_thread(
            subprocess.run, ["curl", "-sS", "--max-time", str(TIMEOUT), "--cacert", self.server.cafile,
                             "-H", "Content-Type: application/json", "--data-binary", json.dumps(n2),
                             "-w", "\n%{http_code} %{http_version} %{ssl_verify_result}", self.server.url + "/publish"],
            capture_output=True, text=True, timeout=TIMEOUT * 2)
        self.assertEqual(curl.returncode, 0, curl.stderr)
        out, _, tail = curl.stdout.rpartition("\n")
        self.assertEqual(tail, "202 1.1 0")
        [s2] = json.loads(out)["seqs"]
        self.assertEqual(await recv_json(ws), {"seq": s1, **n1})
        self.assertEqual(await recv_json(ws), {"seq": s2, **n2})
        # curl without the CA refuses the server (60: peer certificate cannot be authenticated).
        refused = await asyncio.to_thread(subprocess.run, ["curl", "-sS", "--max-time", str(TIMEOUT),
                                                           self.server.url + "/healthz"],
                                          capture_output=True, text=True, timeout=TIMEOUT * 2)
        self.assertEqual(refused.returncode, 60, refused.stderr)

    async def test_sse_over_https(self):
        conn = self.server.https_connection()
        self.addCleanup(conn.close)

        def open_stream():
            conn.request("GET", "/sse?collections=feed", headers={"Accept": "text/event-stream"})
            return conn.getresponse()

        def next_event(res) -> dict:
            fields: dict[str, str] = {}
            while True:
                line = res.readline().decode()
                if not line:
                    raise AssertionError(f"the stream ended; got {fields}")
                line = line.rstrip("\n")
                if line == "":
                    if "data" in fields:
                        return fields
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(": ")
                fields[name] = value

        res = await asyncio.to_thread(open_stream)
        self.assertEqual(res.status, 200)
        self.assertEqual(res.getheader("content-type"), "text/event-stream")
        first = await asyncio.to_thread(next_event, res)
        self.assertEqual(first["event"], "welcome")
        welcome = json.loads(first["data"])
        n = notification("feed", "create", id="1", data={"text": "over TLS"})
        [seq] = await self.publish(n)
        event = await asyncio.to_thread(next_event, res)
        self.assertEqual(json.loads(event["data"]), {"seq": seq, **n})
        self.assertEqual(event["id"], f"{welcome['epoch']}:{seq}")

        # curl -N as the stream's reader, resuming with Last-Event-ID.
        [seq2] = await self.publish(notification("feed", "update", id="1"))
        curl = subprocess.Popen(["curl", "-sSN", "--max-time", str(TIMEOUT * 2), "--cacert", self.server.cafile,
                                 "-H", f"Last-Event-ID: {event['id']}", self.server.url + "/sse?collections=feed"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(curl.communicate, timeout=TIMEOUT)
        self.addCleanup(curl.kill)
        assert curl.stdout is not None

        def curl_data_lines(count: int) -> list[dict]:
            out = []
            while len(out) < count:
                line = curl.stdout.readline()
                if not line:
                    raise AssertionError(f"curl ended: {curl.stderr.read() if curl.stderr else ''}")
                if line.startswith(b"data: "):
                    out.append(json.loads(line[6:]))
            return out

        welcome2, replayed = await asyncio.to_thread(curl_data_lines, 2)
        self.assertEqual((welcome2["type"], welcome2["resumed"]), ("welcome", True))
        self.assertEqual(replayed, {"seq": seq2, "collection": "feed", "action": "update", "id": "1"})

    async def test_healthz_metrics_and_static_files_over_https(self):
        health = await self.http("GET", "/healthz")
        self.assertEqual((health.status, health.json()), (200, {"status": "ok"}))
        page = await self.http("GET", "/")
        self.assertEqual((page.status, page.body), (200, self.INDEX))
        self.assertTrue(page.header("content-type").startswith("text/html"), page.headers)

        before = await self.scrape()  # its own handshake counted already
        for family in ("notifier_tls_handshakes_total", "notifier_tls_kernel_connections_total",
                       "notifier_tls_reloads_total"):
            self.assertEqual(before.families[family]["type"], "counter", family)
        self.assertEqual(set(before.families["notifier_tls_handshakes_total"]["samples"]),
                         {(("result", r),) for r in ("ok", "failed", "timeout", "plain_http")})
        self.assertEqual(set(before.families["notifier_tls_reloads_total"]["samples"]),
                         {(("result", r),) for r in ("ok", "failed")})
        await asyncio.to_thread(lambda: self.server.handshake().close())
        after = await self.scrape()
        self.assertEqual(self.handshakes(after)["ok"] - self.handshakes(before)["ok"], 2)
        self.assertEqual(after.value("notifier_tls_kernel_connections_total"), 0)  # no --tls-kernel
        self.assertEqual(after.value("notifier_tls_reloads_total", result="ok"), 0)
        self.assertEqual(after.value("notifier_tls_reloads_total", result="failed"), 0)

    async def test_alpn(self):
        cases = [(["h2", "http/1.1"], "http/1.1"), (["http/1.1"], "http/1.1"), (["h2"], None), (None, None)]
        for offer, expected in cases:
            with self.subTest(offer=offer):
                conn = self.server.https_connection(self.server.context(alpn=offer))
                try:
                    await asyncio.to_thread(conn.connect)
                    self.assertEqual(conn.sock.selected_alpn_protocol(), expected)
                    # The handshake went through either way: HTTP/1.1 follows.
                    res = await asyncio.to_thread(self.server.request, "GET", "/healthz", conn=conn)
                    self.assertEqual(res.status, 200)
                finally:
                    conn.close()
        # A WebSocket client offering h2 and http/1.1 gets its upgrade.
        ws, _ = await self.connect("collections=alpn", ssl=self.server.context(alpn=["h2", "http/1.1"]))
        self.assertEqual(ws.transport.get_extra_info("ssl_object").selected_alpn_protocol(), "http/1.1")

    async def test_tls12_and_tls13_clients_are_accepted_by_default(self):
        for maximum, expected in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (None, "TLSv1.3")):
            with self.subTest(version=expected):
                ctx = self.server.context(maximum_version=maximum)
                conn = self.server.https_connection(ctx)
                try:
                    res = await asyncio.to_thread(self.server.request, "GET", "/healthz", conn=conn)
                    self.assertEqual(res.status, 200)
                    self.assertEqual(conn.sock.version(), expected)
                finally:
                    conn.close()
                ws, _ = await self.connect("collections=v", ssl=ctx)
                self.assertEqual(ws.transport.get_extra_info("ssl_object").version(), expected)
                [seq] = await self.publish(notification("v", "x"))
                self.assertEqual((await recv_json(ws))["seq"], seq)
                await ws.close()

    async def test_plain_http_is_answered_400_tls_required(self):
        before = self.handshakes(await self.scrape())
        port = self.port
        requests = {
            "GET /healthz": f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode(),
            "POST /publish": (f"POST /publish HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                              f"Content-Length: 2\r\n\r\n{{}}").encode(),
            "WebSocket upgrade": upgrade_request(port, "/ws"),
        }
        for name, request in requests.items():
            with self.subTest(request=name):
                res = await asyncio.to_thread(exchange_to_eof, port, request)
                self.assertEqual(res.status, 400)
                self.assertEqual(res.header("connection"), "close")
                self.assertEqual(res.header("content-type"), "application/json")
                self.assertEqual(int(res.header("content-length")), len(res.body))
                self.assertEqual(json.loads(res.body), TLS_REQUIRED)

        curl = await asyncio.to_thread(
            subprocess.run, ["curl", "-sS", "-i", "--max-time", str(TIMEOUT), f"http://127.0.0.1:{port}/healthz"],
            capture_output=True, timeout=TIMEOUT * 2)
        self.assertEqual(curl.returncode, 0, curl.stderr)
        head, _, body = curl.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), head)
        self.assertIn(b"\r\nConnection: close", head)
        self.assertEqual(json.loads(body), TLS_REQUIRED)

        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
            await asyncio.wait_for(websockets.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=TIMEOUT), TIMEOUT)
        self.assertEqual(caught.exception.status_code, 400)

        after = self.handshakes(await self.scrape())
        self.assertEqual(after["plain_http"] - before["plain_http"], 5)
        self.assertEqual(after["failed"] - before["failed"], 0)
        await self.assert_serves()

    async def test_a_client_that_does_not_trust_the_certificate_fails_and_is_counted(self):
        before = self.handshakes(await self.scrape())
        with self.assertRaises(ssl.SSLCertVerificationError):
            await asyncio.to_thread(self.server.handshake, ssl.create_default_context())
        after = self.handshakes(await self.metric_reaches(before["failed"] + 1, "notifier_tls_handshakes_total",
                                                          result="failed"))
        self.assertEqual(after["failed"] - before["failed"], 1)
        self.assertEqual(after["timeout"] - before["timeout"], 0)


class TlsMinVersionTest(TlsTestCase):
    server_flags = ("--tls-min-version", "1.3")

    async def test_a_tls12_only_client_is_refused(self):
        before = self.handshakes(await self.scrape())
        old = self.server.context(maximum_version=ssl.TLSVersion.TLSv1_2)
        with self.assertRaises(ssl.SSLError) as caught:
            await asyncio.to_thread(self.server.handshake, old)
        self.assertNotIsInstance(caught.exception, ssl.SSLCertVerificationError)
        with self.assertRaises(ssl.SSLError):
            await asyncio.wait_for(websockets.connect(self.server.ws_url(), ssl=old, open_timeout=TIMEOUT), TIMEOUT)
        after = self.handshakes(await self.metric_reaches(before["failed"] + 2, "notifier_tls_handshakes_total",
                                                          result="failed"))
        self.assertEqual(after["failed"] - before["failed"], 2)
        # TLS 1.3 goes through.
        sock = await asyncio.to_thread(self.server.handshake)
        self.assertEqual(sock.version(), "TLSv1.3")
        sock.close()
        await self.assert_serves()


class TlsHandshakeFloodTest(TlsTestCase):
    """Connections that never finish their handshake, and many handshakes
    that end at once, beside a subscribed client."""

    HANDSHAKE_TIMEOUT = 1
    server_flags = ("--handshake-timeout", str(HANDSHAKE_TIMEOUT))

    STALLED = 200     # half of them send nothing, half half a ClientHello
    COMPLETE = 200    # complete handshakes, closed at once (in waves)
    PUBLISHED = 100   # one POST each, over one keep-alive connection

    async def test_stalled_and_aborted_handshakes_do_not_harm_a_live_client(self):
        ws, _ = await self.connect("collections=live")
        before = self.handshakes(await self.scrape())
        hello = client_hello()
        opened_at = time.monotonic()

        def open_stalled() -> list[socket.socket]:
            socks = []
            for i in range(self.STALLED):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
                socks.append(s)
                if i % 2:
                    s.sendall(hello[:len(hello) // 2])
            return socks

        stalled = await asyncio.to_thread(open_stalled)
        self.addCleanup(lambda: [s.close() for s in stalled])

        published: list[int] = []

        def publish_stream() -> None:
            conn = self.server.https_connection()
            try:
                for i in range(self.PUBLISHED):
                    published.extend(self.server.publish(notification("live", "put", id=str(i)), conn=conn))
            finally:
                conn.close()

        async def one_handshake() -> None:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.server.host, self.port, ssl=self.server.context()), TIMEOUT)
            writer.close()
            await writer.wait_closed()

        async def handshake_waves() -> None:
            for _ in range(4):
                await asyncio.gather(*(one_handshake() for _ in range(self.COMPLETE // 4)))

        async def receive() -> list[dict]:
            return [await recv_json(ws, TIMEOUT * 2) for _ in range(self.PUBLISHED)]

        got, _, _ = await asyncio.gather(receive(), asyncio.to_thread(publish_stream), handshake_waves())
        self.assertEqual([f["seq"] for f in got], published)
        self.assertEqual(got, [{"seq": s, "collection": "live", "action": "put", "id": str(i)}
                               for i, s in enumerate(published)])

        # The stalled connections end at --handshake-timeout, not before
        # (they were accepted after opened_at).
        def wait_all_dropped() -> float:
            pending = {s.fileno(): s for s in stalled}
            deadline = opened_at + self.HANDSHAKE_TIMEOUT + TIMEOUT
            first = None
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(pending)} stalled connections still open")
                ready, _, _ = select.select(list(pending), [], [], remaining)
                for fd in ready:
                    read_to_eof(pending.pop(fd), deadline)
                    first = first or time.monotonic()
            return first

        first_dropped = await asyncio.to_thread(wait_all_dropped)
        self.assertGreaterEqual(first_dropped - opened_at, self.HANDSHAKE_TIMEOUT)
        after = self.handshakes(await self.scrape())
        self.assertEqual(after["timeout"] - before["timeout"], self.STALLED)
        # The waves, the publisher's connection and this scrape's.
        self.assertEqual(after["ok"] - before["ok"], self.COMPLETE + 2)
        self.assertEqual(after["failed"] - before["failed"], 0)
        [seq] = await self.publish(notification("live", "after"))
        self.assertEqual((await recv_json(ws))["seq"], seq)
        await self.assert_serves()


# As in test_slow_consumer: more than the kernel's buffers and the queue hold.
from test_slow_consumer import (  # noqa: E402
    DATA_BYTES,
    QUEUE_BYTES,
    expect_closed_as_slow,
    open_stalled_and_reader,
    publish_past_a_stalled_client,
)


class TlsSlowConsumerTest(TlsTestCase):
    server_flags = ("--max-queue-bytes", str(QUEUE_BYTES), "--close-timeout", "20")

    async def test_stalled_tls_client_closed_4008_reader_gets_everything(self):
        stalled, reader, start = await open_stalled_and_reader(self)
        conn = self.server.https_connection()
        self.addCleanup(conn.close)
        await publish_past_a_stalled_client(
            self, reader, start, lambda batch: asyncio.to_thread(self.server.publish, batch, conn))
        # A record OpenSSL had begun stays whole (write_queue::pin_front),
        # so the close frame follows a gap-free prefix here too.
        await expect_closed_as_slow(self, stalled, start)

        s = await self.scrape()
        self.assertEqual(s.value("notifier_slow_consumer_closes_total"), 1)
        [seq] = await self.publish(notification("big", "after"))
        self.assertEqual((await recv_json(reader))["seq"], seq)
        await self.assert_serves()


class TlsBurstTest(TlsTestCase):
    """2,000 notifications of 5 KB published as fast as the server takes
    them: each reader gets all, in order, byte for byte. The queue limit is
    above the burst (a 4008 is not what this is about); the small receive
    window makes the server's writes block and resume mid-record."""

    BURST = 2000
    PER_POST = 100
    server_flags = ("--max-queue-bytes", str(32 << 20))

    async def test_large_burst_arrives_complete_and_in_order(self):
        ws, welcome = await self.connect("collections=burst")
        # websockets on a socket with a small receive window.
        small = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        small.settimeout(TIMEOUT)
        await asyncio.to_thread(small.connect, (self.server.host, self.port))
        small.setblocking(False)
        ws_small, _ = await self.connect("collections=burst", sock=small, server_hostname=self.server.host)
        # A raw reader on TLS 1.2 (its own record code in OpenSSL), 8 KiB window.
        raw = self.raw("/ws?collections=burst", rcvbuf=8192,
                       context=self.server.context(maximum_version=ssl.TLSVersion.TLSv1_2))
        self.assertEqual(raw.sock.version(), "TLSv1.2")
        self.assertEqual(raw.recv_json()["type"], "welcome")

        notes = [notification("burst", "put", id=str(i),
                              data={"i": i, "pad": chr(ord("a") + i % 26) * DATA_BYTES}) for i in range(self.BURST)]

        def publish_all() -> list[int]:
            conn = self.server.https_connection()
            try:
                seqs = []
                for first in range(0, self.BURST, self.PER_POST):
                    seqs += self.server.publish(notes[first:first + self.PER_POST], conn=conn)
                return seqs
            finally:
                conn.close()

        async def receive(client) -> list[dict]:
            return [await recv_json(client, TIMEOUT * 4) for _ in range(self.BURST)]

        def receive_raw() -> list[dict]:
            return [raw.recv_json(TIMEOUT * 4) for _ in range(self.BURST)]

        seqs, got, got_small, got_raw = await asyncio.gather(
            asyncio.to_thread(publish_all), receive(ws), receive(ws_small), asyncio.to_thread(receive_raw))
        self.assertEqual(seqs, list(range(welcome["seq"] + 1, welcome["seq"] + 1 + self.BURST)))
        expected = [{"seq": s, **n} for s, n in zip(seqs, notes)]
        for name, frames in (("websockets", got), ("small window", got_small), ("raw", got_raw)):
            self.assertEqual([f["seq"] for f in frames], seqs, name)
            self.assertTrue(frames == expected, f"{name}: a frame differs from what was published")
        s = await self.scrape()
        self.assertEqual(s.value("notifier_slow_consumer_closes_total"), 0)


class TlsKernelFlagTest(TlsTestCase):
    """--tls-kernel asks OpenSSL to hand the sending side to the kernel
    (kTLS) where the kernel's tls module takes the cipher; elsewhere it
    changes nothing. Either way every byte arrives."""

    server_flags = ("--tls-kernel",)

    async def test_delivery_with_or_without_the_kernel_encrypting(self):
        ws, welcome = await self.connect("collections=k")
        notes = [notification("k", "put", id=str(i), data={"pad": chr(ord("a") + i % 26) * DATA_BYTES})
                 for i in range(200)]
        seqs = [s for first in range(0, len(notes), 50) for s in await self.publish(notes[first:first + 50])]
        self.assertEqual([await recv_json(ws) for _ in notes], [{"seq": s, **n} for s, n in zip(seqs, notes)])
        s = await self.scrape()
        kernel = s.value("notifier_tls_kernel_connections_total")
        # Counted per connection whose handshake ended with kTLS on: none
        # without the kernel module, at most every one.
        self.assertLessEqual(kernel, s.value("notifier_tls_handshakes_total", result="ok"))
        self.assertEqual(s.value("notifier_tls_handshakes_total", result="failed"), 0)


class TlsReloadTest(TlsHelpers, unittest.IsolatedAsyncioTestCase):
    """SIGHUP reads --tls-cert and --tls-key again. The server's files start
    as certificate "a"; clients trust both "a" and "b"."""

    async def asyncSetUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="notifier-reload-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cert_file, self.key_file = self.dir / "server.crt.pem", self.dir / "server.key.pem"
        self.install(cert("a"))
        served = Certificate(self.cert_file, self.key_file, cert("a").subject)
        self.server = TlsNotifierServer(cert=served, cafile=bundle("a", "b")).start()
        self.addCleanup(self._stop)

    def _stop(self) -> None:
        if self.server.running():
            self.server.stop()

    def install(self, c: Certificate, key: Certificate | None = None) -> None:
        """Writes `c`'s certificate and (`key` or `c`)'s key over the server's files."""
        shutil.copyfile(c.cert, self.cert_file)
        shutil.copyfile((key or c).key, self.key_file)

    async def sighup(self, pattern: str, count: int) -> list[re.Match]:
        """SIGHUP, then waits for the `count`th log line matching `pattern`."""
        self.server.proc.send_signal(signal.SIGHUP)
        return await asyncio.to_thread(wait_logged, self.server, pattern, count)

    async def served(self) -> bytes:
        """The certificate a fresh handshake sees."""
        sock = await asyncio.to_thread(self.server.handshake)
        try:
            return sock.getpeercert(binary_form=True)
        finally:
            sock.close()

    async def assert_delivers(self, *clients) -> None:
        [seq] = await self.publish(notification("r", "tick"))
        for ws in clients:
            self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "r", "action": "tick"})

    async def assert_reloads(self, ok: int, failed: int) -> None:
        s = await self.scrape()
        self.assertEqual((s.value("notifier_tls_reloads_total", result="ok"),
                          s.value("notifier_tls_reloads_total", result="failed")), (ok, failed))

    @staticmethod
    def reloaded(c: Certificate) -> str:
        return (r'level=info event=tls_reloaded certificate="' + re.escape(c.subject)
                + r', expires [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT"')

    async def test_sighup_serves_the_new_certificate_and_open_connections_stay(self):
        ws, _ = await self.connect("collections=r")
        self.assertEqual(peer_der(ws), cert("a").der)
        self.assertEqual(await self.served(), cert("a").der)
        await self.assert_delivers(ws)

        self.install(cert("b"))
        await self.sighup(self.reloaded(cert("b")), 1)
        self.assertEqual(await self.served(), cert("b").der)
        ws2, _ = await self.connect("collections=r")
        self.assertEqual(peer_der(ws2), cert("b").der)
        # The connection from before the reload stays, on its handshake's certificate.
        await self.assert_delivers(ws, ws2)
        self.assertEqual(peer_der(ws), cert("a").der)
        res = await self.http("GET", "/healthz")
        self.assertEqual(res.status, 200)
        await self.assert_reloads(ok=1, failed=0)

        # And back: the same files may change again.
        self.install(cert("a"))
        await self.sighup(self.reloaded(cert("a")), 1)
        self.assertEqual(await self.served(), cert("a").der)
        await self.assert_delivers(ws, ws2)
        await self.assert_reloads(ok=2, failed=0)

    async def test_a_bad_new_pair_is_refused_and_the_old_certificate_stays(self):
        ws, _ = await self.connect("collections=r")
        failed = r'level=error event=tls_reload_failed error="([^"\n]*)"'
        # The key of another certificate: the error names the key file.
        self.install(cert("b"), key=cert("a"))
        logged = await self.sighup(failed, 1)
        self.assertIn(str(self.key_file), logged[0].group(1))
        self.assertEqual(await self.served(), cert("a").der)
        await self.assert_delivers(ws)
        await self.assert_reloads(ok=0, failed=1)
        # A certificate file that is not PEM: named too.
        self.cert_file.write_text("not a certificate\n")
        logged = await self.sighup(failed, 2)
        self.assertEqual(len(logged), 2)
        self.assertIn(f"TLS certificate {self.cert_file}", logged[1].group(1))
        self.assertEqual(await self.served(), cert("a").der)
        await self.assert_delivers(ws)
        await self.assert_reloads(ok=0, failed=2)
        self.assertNotIn("event=tls_reloaded", self.server.stderr())
        # A good pair again: taken.
        self.install(cert("b"))
        await self.sighup(self.reloaded(cert("b")), 1)
        self.assertEqual(await self.served(), cert("b").der)
        await self.assert_delivers(ws)
        await self.assert_reloads(ok=1, failed=2)


class TlsConfigurationTest(unittest.TestCase):
    """--tls-* as flags, NOTIFIER_TLS_* variables and file keys; refusals."""

    def run_notifierd(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([notifierd_path(), "--listen", "127.0.0.1:0", *args], capture_output=True, text=True,
                              timeout=TIMEOUT * 2, env=clean_env(env), stdin=subprocess.DEVNULL)

    def start(self, *flags: str, env: dict[str, str] | None = None) -> TlsNotifierServer:
        server = TlsNotifierServer(*flags, cafile=cert("a").cert)
        with mock.patch.dict(os.environ, clean_env(env), clear=True):
            server.start()
        self.addCleanup(server.kill)
        return server

    def assert_refuses_tls12(self, server: TlsNotifierServer) -> None:
        with self.assertRaises(ssl.SSLError):
            server.handshake(server.context(maximum_version=ssl.TLSVersion.TLSv1_2)).close()
        sock = server.handshake()
        self.assertEqual((sock.version(), sock.getpeercert(binary_form=True)), ("TLSv1.3", cert("a").der))
        sock.close()

    def test_only_one_of_certificate_and_key_exits_2(self):
        for args, message in ((["--tls-cert", str(cert("a").cert)], "--tls-cert needs --tls-key"),
                              (["--tls-key", str(cert("a").key)], "--tls-key needs --tls-cert")):
            for check in ([], ["--check-config"]):
                with self.subTest(args=args[0], check=check):
                    r = self.run_notifierd(*args, *check)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn(message, r.stderr)
                    self.assertNotIn("listening", r.stdout)
        r = self.run_notifierd(env={"NOTIFIER_TLS_CERT": str(cert("a").cert)})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--tls-cert needs --tls-key", r.stderr)

    def test_a_key_of_another_certificate_or_a_file_not_pem_is_refused_naming_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            garbage = Path(d) / "garbage.pem"
            garbage.write_text("not PEM at all\n")
            cases = {
                "key of another certificate": ([str(cert("a").cert), str(cert("b").key)], str(cert("b").key)),
                "certificate not PEM": ([str(garbage), str(cert("a").key)], str(garbage)),
                "key not PEM": ([str(cert("a").cert), str(garbage)], str(garbage)),
                "certificate given as key": ([str(cert("a").cert), str(cert("a").cert)], str(cert("a").cert)),
            }
            for name, ((crt, key), named) in cases.items():
                for check in ([], ["--check-config"]):
                    with self.subTest(name, check=check):
                        r = self.run_notifierd("--tls-cert", crt, "--tls-key", key, *check)
                        self.assertNotEqual(r.returncode, 0, r.stdout)
                        self.assertIn(named, r.stderr)
                        self.assertNotIn("listening", r.stdout)
            missing = str(Path(d) / "missing.pem")
            r = self.run_notifierd("--tls-cert", missing, "--tls-key", str(cert("a").key))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(missing, r.stderr)

    def test_flags_variables_and_file_keys(self):
        a = cert("a")
        effective = self.run_notifierd("--tls-cert", str(a.cert), "--tls-key", str(a.key), "--check-config")
        self.assertEqual(effective.returncode, 0, effective.stderr)
        self.assertRegex(effective.stdout, rf'(?m)^tls-cert = "{re.escape(str(a.cert))}" +# --tls-cert$')
        self.assertRegex(effective.stdout, r'(?m)^tls-min-version = "1\.2" +# default$')

        env = {"NOTIFIER_TLS_CERT": str(a.cert), "NOTIFIER_TLS_KEY": str(a.key), "NOTIFIER_TLS_MIN_VERSION": "1.3"}
        server = self.start(env=env)
        self.assert_refuses_tls12(server)
        server.stop()

        with tempfile.TemporaryDirectory() as d:
            toml = Path(d) / "notifierd.toml"
            toml.write_text(f'tls-cert = "{a.cert}"\ntls-key = "{a.key}"\ntls-min-version = "1.3"\n')
            r = self.run_notifierd("--config", str(toml), "--check-config")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, rf'(?m)^tls-key = "{re.escape(str(a.key))}" +# {re.escape(str(toml))}:2$')
            self.assertRegex(r.stdout, rf'(?m)^tls-min-version = "1\.3" +# {re.escape(str(toml))}:3$')
            server = self.start("--config", str(toml))
            self.assert_refuses_tls12(server)
            self.assertEqual(server.request("GET", "/healthz").status, 200)
            server.stop()

        r = self.run_notifierd("--tls-cert", str(a.cert), "--tls-key", str(a.key), "--tls-min-version", "1.1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--tls-min-version", r.stderr)


class PlainListenerWarningTest(unittest.TestCase):
    """A listener off loopback without TLS says so at warn; loopback and TLS do not."""

    def test_public_plain_listener_warns(self):
        server = NotifierServer("--insecure", listen="0.0.0.0:0").start()
        self.addCleanup(server.kill)
        wait_logged(server, r"level=warn event=plain_listener host=0\.0\.0\.0 ")
        server.stop()

    def test_loopback_plain_listener_does_not_warn(self):
        server = NotifierServer().start()
        self.addCleanup(server.kill)
        server.stop()
        self.assertIn("event=listening", server.stderr())
        self.assertNotIn("plain_listener", server.stderr())

    def test_public_tls_listener_does_not_warn(self):
        server = TlsNotifierServer("--insecure", cert=cert("a"), listen="0.0.0.0:0").start()
        self.addCleanup(server.kill)
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=TIMEOUT, context=server.context())
        self.assertEqual(server.request("GET", "/healthz", conn=conn).status, 200)
        conn.close()
        server.stop()
        self.assertIn(f'event=tls_certificate certificate="{cert("a").subject}, expires ', server.stderr())
        self.assertNotIn("plain_listener", server.stderr())


if __name__ == "__main__":
    unittest.main()
