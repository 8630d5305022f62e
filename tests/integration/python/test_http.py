# SPDX-License-Identifier: MIT
"""HTTP endpoints and their errors (docs/protocol.md, "Endpoints",
"POST /publish" and "Opening")."""

import asyncio
import http.client
import json
import os
import socket
import tempfile
import unittest
from pathlib import Path

from notifier_testlib import (
    JSON_HEADERS,
    TIMEOUT,
    ServerTestCase,
    frames_before_marker,
    http_request,
    notification,
    post_publish,
    publish,
    recv_json,
    ws_handshake_http,
)

MIB = 1 << 20


class PublishErrorsTest(ServerTestCase):

    async def assert_rejected(self, payload=None, code="", status=400, raw=None, headers=None):
        res = await self.post(payload, raw=raw, headers=headers)
        self.assert_error_body(res, status, code)

    async def test_content_type_required(self):
        body = json.dumps(notification("posts"))
        await self.assert_rejected(raw=body, headers={}, status=415, code="unsupported_media_type")
        for ct in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json"]:
            with self.subTest(content_type=ct):
                await self.assert_rejected(raw=body, headers={"Content-Type": ct}, status=415,
                                           code="unsupported_media_type")

    async def test_content_type_parameters_allowed(self):
        for ct in ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]:
            with self.subTest(content_type=ct):
                res = await self.post(raw=json.dumps(notification("posts")), headers={"Content-Type": ct})
                self.assertEqual(res.status, 202, res.body)
                self.assertEqual(set(res.json()), {"seqs"})

    async def test_invalid_json(self):
        for body in ["", "{", '{"collection":"a","action":"b"', "nope", '{"collection":"a"} {}', "[1,]"]:
            with self.subTest(body=body):
                await self.assert_rejected(raw=body, code="invalid_json")

    async def test_invalid_utf8_or_lone_surrogate_is_invalid_json(self):
        # Nothing that is not valid UTF-8 may reach a text frame.
        for body in [b'{"collection":"a","action":"b","data":"\xff"}',
                     b'{"collection":"a","action":"b","id":"\xc3\x28"}',
                     b'{"collection":"a","action":"b","data":"\\ud800"}',
                     b'{"collection":"a","action":"b","data":{"\\udc00":1}}']:
            with self.subTest(body=body):
                await self.assert_rejected(raw=body, code="invalid_json")

    async def test_invalid_notification(self):
        cases = [
            {"action": "create"},                              # collection missing
            {"collection": "posts"},                           # action missing
            {"collection": 5, "action": "create"},
            {"collection": "posts", "action": ["create"]},
            {"collection": None, "action": "create"},
            {"collection": "posts", "action": "create", "id": 1.5},
            {"collection": "posts", "action": "create", "id": True},
            {"collection": "posts", "action": "create", "id": None},
            {"collection": "posts", "action": "create", "id": {"x": 1}},
            "posts", 42, None, [1], [notification("ok"), "bad"],
        ]
        for payload in cases:
            with self.subTest(payload=payload):
                await self.assert_rejected(payload, "invalid_notification")

    async def test_invalid_names(self):
        cases = [
            notification(""),
            notification("posts", ""),
            notification("bad name"),
            notification("posts", "cre ate"),
            notification("a" * 129),
            notification("posts", "a" * 65),
            notification("posts/7"),
            notification("caf\u00e9"),
            notification("*"),
            notification("posts", id=""),
            notification("posts", id="x" * 257),
            notification("posts", id="\u00e9" * 129),      # 258 bytes
        ]
        for payload in cases:
            with self.subTest(payload=payload):
                await self.assert_rejected(payload, "invalid_name")

    async def test_names_at_their_limits_accepted(self):
        ws, _ = await self.connect()
        body = [notification("a" * 128, "b" * 64, id="x" * 256), notification("A-z_0.9:", "x", id="\u00e9" * 128)]
        seqs = await self.publish(body)
        for seq, n in zip(seqs, body):
            self.assertEqual(await recv_json(ws), {"seq": seq, **n})

    async def test_unknown_field(self):
        for payload in [notification("posts", seq=3), notification("posts", type="x"),
                        [notification("posts"), notification("posts", Data=1)]]:
            with self.subTest(payload=payload):
                await self.assert_rejected(payload, "unknown_field")

    async def test_empty_batch(self):
        await self.assert_rejected([], "empty_batch")

    async def test_bad_batch_publishes_nothing(self):
        ws, _ = await self.connect()
        [before] = await self.publish(notification("good", "before"))
        self.assertEqual((await recv_json(ws))["seq"], before)
        for bad, code in [
            ([notification("bad1"), notification("bad2", ""), notification("bad3")], "invalid_name"),
            ([notification("bad1"), notification("bad2", x=1)], "unknown_field"),
            ([notification("bad1"), {"collection": "bad2"}], "invalid_notification"),
        ]:
            with self.subTest(code=code):
                await self.assert_rejected(bad, code)
        [after] = await self.publish(notification("good", "after"))
        self.assertEqual(after, before + 1, "a rejected batch consumed seqs")
        got = await frames_before_marker(ws, after)
        self.assertEqual(got, [])

    async def test_body_above_1mib_413(self):
        base = json.dumps(notification("big", data=""))
        body = base[:-2] + " " * (MIB + 1 - len(base)) + base[-2:]
        self.assertEqual(len(body), MIB + 1)
        await self.assert_rejected(raw=body, status=413, code="payload_too_large")
        await self.assert_serves()

    async def test_body_of_exactly_1mib_accepted(self):
        base = json.dumps(notification("big", data=""))
        body = base[:-2] + " " * (MIB - len(base)) + base[-2:]
        self.assertEqual(len(body), MIB)
        res = await self.post(raw=body)
        self.assertEqual(res.status, 202, res.body[:200])

    async def test_method_not_allowed(self):
        for method in ["GET", "PUT", "DELETE"]:
            with self.subTest(method=method):
                res = await self.http(method, "/publish")
                self.assert_error_body(res, 405, "method_not_allowed")
                self.assertEqual(res.header("allow"), "POST")

    async def test_accepted_body(self):
        res = await self.post([notification("a"), notification("b")])
        self.assertEqual(res.status, 202)
        self.assertTrue(res.header("content-type").startswith("application/json"))
        seqs = res.json()["seqs"]
        self.assertEqual(res.json(), {"seqs": [seqs[0], seqs[0] + 1]})


class EndpointsTest(ServerTestCase):

    async def test_healthz(self):
        res = await self.http("GET", "/healthz")
        self.assertEqual(res.status, 200)
        self.assertTrue(res.header("content-type").startswith("application/json"))
        self.assertEqual(res.json(), {"status": "ok"})

    async def test_unknown_path_404(self):
        for path in ["/nope", "/publish/x", "/ws/x", "/healthz/", "/api"]:
            with self.subTest(path=path):
                self.assert_error_body(await self.http("GET", path), 404, "not_found")

    async def test_builtin_page_at_root(self):
        res = await self.http("GET", "/")
        self.assertEqual(res.status, 200)
        self.assertTrue(res.header("content-type").startswith("text/html"))

    async def test_ws_without_upgrade_426(self):
        res = await self.http("GET", "/ws")
        self.assert_error_body(res, 426, None)

    async def test_other_methods_on_known_paths_405(self):
        for method, path, allow in [("POST", "/healthz", "GET"), ("DELETE", "/healthz", "GET"),
                                    ("PUT", "/ws", "GET"), ("POST", "/ws", "GET"), ("PUT", "/publish", "POST"),
                                    ("POST", "/", "GET")]:
            with self.subTest(method=method, path=path):
                res = await self.http(method, path, "{}", JSON_HEADERS)
                self.assert_error_body(res, 405, "method_not_allowed")
                self.assertIn(allow, [m.strip() for m in res.header("allow").split(",")])

    async def test_other_methods_on_unknown_paths_404(self):
        for method in ["POST", "PUT", "DELETE"]:
            with self.subTest(method=method):
                res = await self.http(method, "/no/such/path", "{}", JSON_HEADERS)
                self.assert_error_body(res, 404, "not_found")

    async def pipelined(self, *requests: bytes) -> bytes:
        """Sends all requests in one write (the last one closes) and returns
        everything received until EOF."""
        def run():
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
                s.sendall(b"".join(requests))
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                return data
        return await asyncio.to_thread(run)

    def split_responses(self, data: bytes, methods: list[str]) -> list[tuple[bytes, bytes]]:
        """Splits a stream of responses using Content-Length (none for HEAD)."""
        out = []
        for method in methods:
            head, sep, data = data.partition(b"\r\n\r\n")
            self.assertTrue(sep and head.startswith(b"HTTP/1.1 "), f"not a response: {head[:80]!r}")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if method == "HEAD":
                length = 0
            out.append((head, data[:length]))
            data = data[length:]
        self.assertEqual(data, b"", "bytes left after the last response")
        return out

    async def test_head_builtin_page_has_no_body(self):
        data = await self.pipelined(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
                                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        (head1, _), (head2, body2) = self.split_responses(data, ["HEAD", "GET"])
        self.assertTrue(head1.startswith(b"HTTP/1.1 200 "))
        self.assertEqual(json.loads(body2), {"status": "ok"})

    async def test_head_responses_have_no_body(self):
        for path in ["/healthz", "/no/such/path", "/publish"]:
            with self.subTest(path=path):
                data = await self.pipelined(
                    f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                (_, _), (head2, body2) = self.split_responses(data, ["HEAD", "GET"])
                self.assertTrue(head2.startswith(b"HTTP/1.1 200 "))
                self.assertEqual(json.loads(body2), {"status": "ok"})

    async def test_an_error_answered_after_a_head_request_keeps_its_body(self):
        data = await self.pipelined(
            b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2000000\r\n\r\n")
        (_, _), (head2, body2) = self.split_responses(data, ["HEAD", "POST"])
        self.assertTrue(head2.startswith(b"HTTP/1.1 413 "), head2)
        self.assertEqual(json.loads(body2)["error"], "payload_too_large")

    async def test_expect_100_continue_is_answered_before_the_body(self):
        body = json.dumps(notification("expect")).encode()
        head = (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Expect: 100-continue\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim, final = await asyncio.to_thread(continue_exchange, self.port, head, body)
        self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
        self.assertTrue(final.startswith(b"HTTP/1.1 202 "), final[:80])
        # Too big: refused at once, no 100.
        res = await self.http("POST", "/publish", "x" * (MIB + 1), {**JSON_HEADERS, "Expect": "100-continue"})
        self.assert_error_body(res, 413, "payload_too_large")

    async def test_ws_upgrade_with_another_method_405(self):
        def run():
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
                s.sendall(b"POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                          b"Content-Length: 0\r\n\r\n")
                return s.recv(65536)
        data = await asyncio.to_thread(run)
        self.assertTrue(data.startswith(b"HTTP/1.1 405 "), data[:80])
        self.assertIn(b"method_not_allowed", data)

    async def test_ws_bad_collections_400(self):
        for query in ["collections=bad%20name", "collections=bad+name", "collections=posts,,forums",
                      "collections=posts/", "collections=" + "a" * 129]:
            with self.subTest(query=query):
                res = await asyncio.to_thread(ws_handshake_http, self.port, "/ws?" + query)
                self.assert_error_body(res, 400, "invalid_name")

    async def test_ws_bad_since_400(self):
        for since in ["abc", "-1", "1.5", "", "1x", "0x10"]:
            with self.subTest(since=since):
                res = await asyncio.to_thread(ws_handshake_http, self.port, f"/ws?since={since}&epoch=e")
                self.assert_error_body(res, 400, "invalid_query")

    async def test_ws_version_8_426(self):
        res = await asyncio.to_thread(ws_handshake_http, self.port, "/ws", "8")
        self.assert_error_body(res, 426, None)

    async def test_header_above_8k_431(self):
        res = await self.http("GET", "/healthz", headers={"X-Padding": "p" * 9000})
        self.assert_error_body(res, 431, "header_too_large")
        res = await self.http("POST", "/publish", json.dumps(notification("x")),
                              {**JSON_HEADERS, "X-Padding": "p" * 9000})
        self.assert_error_body(res, 431, "header_too_large")
        await self.assert_serves()


class KeepAliveTest(ServerTestCase):

    async def test_several_publishes_on_one_connection(self):
        ws, _ = await self.connect("collections=ka")

        def run():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                seqs = []
                for i in range(10):
                    seqs += publish(self.port, notification("ka", id=i), conn=conn)
                    if i == 0:
                        local = conn.sock.getsockname()
                    self.assertEqual(conn.sock.getsockname(), local, "the connection was not reused")
                # Errors keep the connection too, and so do other endpoints.
                bad = post_publish(self.port, [], conn=conn)
                self.assertEqual(bad.status, 400)
                health = http_request(self.port, "GET", "/healthz", conn=conn)
                self.assertEqual(health.status, 200)
                seqs += publish(self.port, [notification("ka", id=10), notification("ka", id=11)], conn=conn)
                self.assertEqual(conn.sock.getsockname(), local)
                return seqs
            finally:
                conn.close()

        seqs = await asyncio.to_thread(run)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 12)))
        for i, seq in enumerate(seqs):
            self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "ka", "action": "create", "id": str(i)})

    async def test_pipelined_requests(self):
        body = json.dumps(notification("pipe")).encode()
        req = (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

        def run():
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
                s.sendall(req * 3 + last)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return data
                    data += chunk

        data = await asyncio.to_thread(run)
        self.assertEqual(data.count(b"HTTP/1.1 202 "), 3, data)
        self.assertEqual(data.count(b"HTTP/1.1 200 "), 1, data)


class SmallPublishLimitTest(ServerTestCase):
    server_flags = ("--max-publish-bytes", "1000")

    async def test_2k_body_413(self):
        res = await self.post(notification("big", data="z" * 2000))
        self.assert_error_body(res, 413, "payload_too_large")
        await self.assert_serves()

    async def test_2k_chunked_body_413(self):
        def run():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                chunks = [json.dumps(notification("big", data="z" * 2000)).encode()]
                conn.request("POST", "/publish", body=iter(chunks), headers=JSON_HEADERS, encode_chunked=True)
                res = conn.getresponse()
                return res.status, json.loads(res.read())
            finally:
                conn.close()
        status, body = await asyncio.to_thread(run)
        self.assertEqual((status, body["error"]), (413, "payload_too_large"))

    async def test_small_body_accepted(self):
        self.assertEqual(len(await self.publish(notification("small", data="z" * 100))), 1)

    async def test_an_endless_chunk_header_is_refused_not_buffered(self):
        # Beast limits the header and the body, not a chunk-size line: the
        # read buffer's own cap (header + body limits + 64 KiB) must end it.
        def rss_kib():
            with open(f"/proc/{self.server.proc.pid}/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

        def run():
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
                s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n1;")
                try:
                    for _ in range(64):  # 4 MiB of a chunk extension without an end
                        s.sendall(b"a" * 65536)
                except OSError:
                    pass  # refused while sending
                data = b""
                try:
                    while chunk := s.recv(65536):
                        data += chunk
                except OSError:
                    pass
                return data
        before = rss_kib()
        data = await asyncio.to_thread(run)
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data[:80])
        self.assertLess(rss_kib() - before, 2048, "the server buffered the junk")
        await self.assert_serves()


def raw_exchange(port: int, data: bytes, read_first: bool = False) -> bytes:
    """Sends `data` in one write and returns everything received until the
    server ends the connection. `read_first`: return what the first read
    brings instead (for an answer that must come before anything else is
    sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
            if read_first:
                break
        return received


def continue_exchange(port: int, head: bytes, body: bytes) -> tuple[bytes, bytes]:
    """Sends a head that asks for 100 Continue, waits for the first answer
    (as a client does before it sends the body), then sends `body`; returns
    that first answer and everything after it until the server ends the
    connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(head)
        interim = s.recv(65536)
        s.sendall(body)
        final = b""
        while chunk := s.recv(65536):
            final += chunk
        return interim, final


def status_line(response: bytes) -> bytes:
    return response.split(b"\r\n", 1)[0]


def response_count(data: bytes) -> int:
    """How many responses `data` holds, told apart by their Content-Length."""
    count = 0
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1."):
            raise AssertionError(f"not a response: {data[:80]!r}")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = rest[length:]
        count += 1
    return count


PUBLISH_KEY = "publish-key-for-the-http-tests-0123"


class PublishKeyOnTheHeaderTest(ServerTestCase):
    """With publish keys, a request without a valid one is refused on its
    header: its body is never read, buffered or asked for."""

    server_flags = ("--publish-key", PUBLISH_KEY)

    def head(self, extra: str = "", length: int | None = None) -> bytes:
        fields = "Host: x\r\nContent-Type: application/json\r\n" + extra
        if length is not None:
            fields += f"Content-Length: {length}\r\n"
        return f"POST /publish HTTP/1.1\r\n{fields}\r\n".encode()

    def assert_401_and_closed(self, response: bytes) -> None:
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertEqual(status_line(head), b"HTTP/1.1 401 Unauthorized", response[:300])
        self.assertIn(b"\r\nWWW-Authenticate: Bearer", head)
        self.assertIn(b"\r\nConnection: close", head)
        self.assertEqual(json.loads(body)["error"], "unauthorized")

    async def test_keyless_2mib_body_is_401_not_413(self):
        res = await self.post(raw="x" * (2 * MIB))
        self.assert_error_body(res, 401, "unauthorized")
        res = await self.post(raw="x" * (2 * MIB), headers={**JSON_HEADERS, "Authorization": "Bearer wrong-key"})
        self.assert_error_body(res, 401, "unauthorized")

    async def test_keyless_body_is_not_waited_for(self):
        # The header announces a body that never comes: the answer (and the
        # end of the connection) cannot depend on reading it.
        for name, auth in [("no key", ""), ("wrong key", "Authorization: Bearer wrong-key\r\n")]:
            with self.subTest(name):
                self.assert_401_and_closed(await asyncio.to_thread(
                    raw_exchange, self.port, self.head(auth, length=500_000)))
        chunked = self.head("Transfer-Encoding: chunked\r\n")
        self.assert_401_and_closed(await asyncio.to_thread(raw_exchange, self.port, chunked))

    async def test_keyless_expect_100_continue_is_401_at_once(self):
        for auth in ["", "Authorization: Bearer wrong-key\r\n", f"Authorization: Basic {PUBLISH_KEY}\r\n"]:
            with self.subTest(auth=auth):
                response = await asyncio.to_thread(
                    raw_exchange, self.port, self.head("Expect: 100-continue\r\n" + auth, length=100))
                self.assertNotIn(b"100 Continue", response)
                self.assert_401_and_closed(response)

    async def test_a_valid_key_still_gets_100_continue_then_202(self):
        body = json.dumps(notification("keyed")).encode()
        auth = f"Authorization: Bearer {PUBLISH_KEY}\r\nConnection: close\r\n"
        head = self.head("Expect: 100-continue\r\n" + auth, length=len(body))
        interim, final = await asyncio.to_thread(continue_exchange, self.port, head, body)
        self.assertEqual(interim, b"HTTP/1.1 100 Continue\r\n\r\n")
        self.assertEqual(status_line(final), b"HTTP/1.1 202 Accepted", final[:200])

    async def test_a_valid_key_with_a_body_too_large_is_413(self):
        res = await self.post(raw="x" * (2 * MIB), headers={**JSON_HEADERS, "Authorization": f"Bearer {PUBLISH_KEY}"})
        self.assert_error_body(res, 413, "payload_too_large")
        res = await self.post(notification("keyed"), headers={**JSON_HEADERS, "Authorization": f"Bearer {PUBLISH_KEY}"})
        self.assertEqual(res.status, 202, res.body)


class BodyFramingTest(ServerTestCase):
    """Transfer-Encoding and Content-Length (RFC 9112 section 6): a request
    whose body could be framed two ways is refused before it is read, and
    the connection closed."""

    async def exchange(self, data: bytes) -> bytes:
        return await asyncio.to_thread(raw_exchange, self.port, data)

    def assert_refused(self, response: bytes, status: int, code: str) -> None:
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertTrue(status_line(head).startswith(f"HTTP/1.1 {status} ".encode()), response[:300])
        self.assertIn(b"\r\nConnection: close", head)
        # One answer: whatever followed the head was not read as a request.
        self.assertEqual(response_count(response), 1, response)
        self.assertEqual(json.loads(body)["error"], code)

    def smuggling(self, transfer_encoding: str, extra: str = "") -> bytes:
        inner = json.dumps(notification("smuggled")).encode()
        smuggled = (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(inner)).encode() + b"\r\n\r\n" + inner)
        return (f"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {transfer_encoding}\r\n{extra}"
                f"\r\n").encode() + smuggled

    async def test_a_request_in_a_body_that_does_not_end_in_chunked_is_not_smuggled(self):
        ws, _ = await self.connect("collections=smuggled")
        for te, extra in [("chunked, identity", ""), ("identity", ""), ("chunked", "Transfer-Encoding: identity\r\n"),
                          ("chunked, identity", f"Content-Length: 0\r\n")]:
            with self.subTest(te=te, extra=extra):
                self.assert_refused(await self.exchange(self.smuggling(te, extra)), 400, "bad_request")
        # Nothing was published: the next notification is the first frame.
        [seq] = await self.publish(notification("smuggled", "marker"))
        self.assertEqual(await frames_before_marker(ws, seq), [])

    async def test_a_coding_other_than_chunked_is_501(self):
        body = b"5\r\nhello\r\n0\r\n\r\n"
        for te in ["gzip, chunked", "identity, chunked", "GZIP,chunked", "gzip\r\nTransfer-Encoding: chunked"]:
            with self.subTest(te=te):
                response = await self.exchange(
                    f"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Transfer-Encoding: {te}\r\n\r\n".encode() + body)
                self.assert_refused(response, 501, "not_implemented")

    async def test_content_length_with_transfer_encoding_is_400(self):
        body = b"5\r\nhello\r\n0\r\n\r\n"
        for fields in ["Content-Length: 5\r\nTransfer-Encoding: chunked", "Transfer-Encoding: chunked\r\nContent-Length: 5",
                       "Transfer-Encoding: chunked\r\nContent-Length: 0", "Content-Length: 0\r\nTransfer-Encoding: gzip, chunked",
                       # Beast reads these by Content-Length: the rest of the body would be the next request.
                       "Transfer-Encoding: gzip\r\nContent-Length: 5", "Transfer-Encoding: chunked, gzip\r\nContent-Length: 5"]:
            with self.subTest(fields=fields):
                response = await self.exchange(
                    f"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{fields}\r\n\r\n".encode()
                    + body)
                self.assert_refused(response, 400, "bad_request")

    async def test_chunked_twice_or_in_http10_is_400(self):
        for version, te in [("1.1", "chunked, chunked"), ("1.0", "chunked")]:
            with self.subTest(version=version, te=te):
                response = await self.exchange(
                    f"POST /publish HTTP/{version}\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Transfer-Encoding: {te}\r\n\r\n0\r\n\r\n".encode())
                self.assertIn(b" 400 ", status_line(response))
                self.assertEqual(response_count(response), 1, response)

    async def test_chunked_bodies_are_still_accepted(self):
        ws, _ = await self.connect("collections=chunky")
        body = json.dumps(notification("chunky")).encode()
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
        response = await self.exchange(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                       b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)
        self.assertEqual(status_line(response), b"HTTP/1.1 202 Accepted", response[:200])
        self.assertEqual((await recv_json(ws))["collection"], "chunky")


class TargetAndHostTest(ServerTestCase):
    """Absolute-form targets (RFC 9112 section 3.2.2) and Host (section 3.2)."""

    async def exchange(self, data: bytes) -> bytes:
        return await asyncio.to_thread(raw_exchange, self.port, data)

    async def test_absolute_form_targets_use_their_path_and_query(self):
        authority = f"127.0.0.1:{self.port}"
        response = await self.exchange(f"GET http://{authority}/healthz HTTP/1.1\r\nHost: {authority}\r\n"
                                       f"Connection: close\r\n\r\n".encode())
        self.assertEqual(status_line(response), b"HTTP/1.1 200 OK", response[:200])
        self.assertTrue(response.endswith(b'{"status":"ok"}'), response)
        # No path is the root: the built-in page.
        response = await self.exchange(f"GET HTTP://{authority} HTTP/1.1\r\nHost: {authority}\r\n"
                                       f"Connection: close\r\n\r\n".encode())
        self.assertEqual(status_line(response), b"HTTP/1.1 200 OK", response[:200])
        self.assertIn(b"text/html", response)
        # POST /publish, and a WebSocket whose subscriptions are in the query.
        raw = self.raw(f"http://{authority}/ws?collections=absolute")
        self.assertEqual(raw.recv_json()["type"], "welcome")
        body = json.dumps(notification("absolute")).encode()
        response = await self.exchange(f"POST http://{authority}/publish HTTP/1.1\r\nHost: {authority}\r\n"
                                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                                       f"Connection: close\r\n\r\n".encode() + body)
        self.assertEqual(status_line(response), b"HTTP/1.1 202 Accepted", response[:200])
        [seq] = json.loads(response.partition(b"\r\n\r\n")[2])["seqs"]
        await self.publish(notification("elsewhere"))
        self.assertEqual(await asyncio.to_thread(raw.recv_json), {"seq": seq, "collection": "absolute", "action": "create"})

    async def test_an_absolute_form_target_stands_in_for_host_as_the_own_origin(self):
        authority = f"127.0.0.1:{self.port}"
        raw = self.raw(f"https://{authority}/ws", headers={"Host": "proxy.invalid", "Origin": f"https://{authority}"})
        self.assertEqual(raw.recv_json()["type"], "welcome")
        res = await asyncio.to_thread(ws_handshake_http, self.port, "http://proxy.invalid/ws",
                                      extra={"Origin": f"http://{authority}"})
        self.assert_error_body(res, 403, "forbidden_origin")

    async def test_other_target_forms_are_400(self):
        for target in ["ftp://127.0.0.1/healthz", "127.0.0.1:80", "*", "healthz", "http:///healthz",
                       "http://user@127.0.0.1/healthz"]:
            with self.subTest(target=target):
                response = await self.exchange(f"GET {target} HTTP/1.1\r\nHost: x\r\n"
                                               f"Connection: close\r\n\r\n".encode())
                self.assertEqual(status_line(response), b"HTTP/1.1 400 Bad Request", response[:200])

    async def test_http11_without_host_is_400(self):
        response = await self.exchange(b"GET /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status_line(response), b"HTTP/1.1 400 Bad Request", response[:200])
        self.assertEqual(response_count(response), 1, response)
        self.assertEqual(json.loads(response.partition(b"\r\n\r\n")[2])["error"], "bad_request")
        for fields in ["Host: a\r\nHost: a", "Host: a\r\nHost: b", "Host: user@a", "Host: a b"]:
            with self.subTest(fields=fields):
                response = await self.exchange(f"GET /healthz HTTP/1.1\r\n{fields}\r\n\r\n".encode())
                self.assertEqual(status_line(response), b"HTTP/1.1 400 Bad Request", response[:200])

    async def test_http10_without_host_is_served(self):
        response = await self.exchange(b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertEqual(status_line(response), b"HTTP/1.0 200 OK", response[:200])
        self.assertTrue(response.endswith(b'{"status":"ok"}'), response)


class StaticDirTestCase(ServerTestCase):
    """A server with --static-dir on a scratch directory that populate()
    fills; extra_flags go on its command line too."""

    extra_flags: tuple[str, ...] = ()

    @classmethod
    def populate(cls, scratch: Path) -> Path:
        """Fills `scratch`; returns the directory to serve."""
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.populate(Path(cls.tmp.name))
        cls.server_flags = ("--static-dir", str(root), *cls.extra_flags)
        try:
            super().setUpClass()
        except BaseException:
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.tmp.cleanup()


class StaticFilesTest(StaticDirTestCase):
    INDEX = b"<!doctype html><title>notifier test page</title>"

    @classmethod
    def populate(cls, scratch: Path) -> Path:
        root = scratch / "www"
        outside = scratch / "outside"
        root.mkdir()
        outside.mkdir()
        (root / "index.html").write_bytes(cls.INDEX)
        (root / "app.js").write_text("console.log(1)")
        (root / "sub").mkdir()
        (root / "sub" / "index.html").write_bytes(b"sub page")
        (outside / "secret.txt").write_text("secret outside the static dir")
        os.symlink(outside / "secret.txt", root / "link.txt")
        os.symlink(outside, root / "linkdir")
        os.symlink("/etc/passwd", root / "passwd")
        return root

    async def test_serves_index(self):
        for path in ["/", "/index.html"]:
            with self.subTest(path=path):
                res = await self.http("GET", path)
                self.assertEqual(res.status, 200)
                self.assertEqual(res.body, self.INDEX)
                self.assertTrue(res.header("content-type").startswith("text/html"))
        res = await self.http("GET", "/app.js")
        self.assertEqual((res.status, res.body), (200, b"console.log(1)"))
        res = await self.http("GET", "/sub/")
        self.assertEqual((res.status, res.body), (200, b"sub page"))

    async def test_head(self):
        res = await self.http("HEAD", "/")
        self.assertEqual(res.status, 200)
        self.assertEqual(res.header("content-length"), str(len(self.INDEX)))

    async def test_traversal_and_symlinks_404(self):
        for path in ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/sub/../../outside/secret.txt",
                     "/%2E%2E/outside/secret.txt", "/..%2Foutside%2Fsecret.txt", "/link.txt",
                     "/linkdir/secret.txt", "/passwd", "/missing.html", "/index.html%00.txt"]:
            with self.subTest(path=path):
                res = await self.http("GET", path)
                self.assert_error_body(res, 404, "not_found")
                self.assertNotIn(b"secret", res.body)
                self.assertNotIn(b"root:", res.body)

    async def test_api_paths_still_win(self):
        self.assertEqual((await self.http("GET", "/healthz")).json(), {"status": "ok"})
        self.assertEqual((await self.http("GET", "/ws")).status, 426)

    async def test_other_methods_405(self):
        res = await self.http("POST", "/index.html", "x", {"Content-Type": "text/plain"})
        self.assert_error_body(res, 405, "method_not_allowed")
        self.assertIn("GET", res.header("allow"))


class StaticDownloadDeadlineTest(StaticDirTestCase):
    """A download on a kept-alive connection gets its own deadline: it is not
    cut at what is left of the request's (--handshake-timeout)."""

    extra_flags = ("--handshake-timeout", "1")
    size = 32 * MIB  # well beyond what socket buffers hold

    @classmethod
    def populate(cls, scratch: Path) -> Path:
        (scratch / "big.bin").write_bytes(b"x" * cls.size)
        return scratch

    async def test_a_slow_download_after_an_idle_keep_alive_completes(self):
        def run():
            import time
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                time.sleep(0.8)  # the client idles on its kept-alive connection
                conn.request("GET", "/big.bin")
                res = conn.getresponse()
                got = 0
                while chunk := res.read(256 * 1024):
                    got += len(chunk)
                    time.sleep(0.01)  # ~25 MB/s: the download outlasts the remaining 0.2 s
                return res.status, got
            finally:
                conn.close()
        status, got = await asyncio.to_thread(run)
        self.assertEqual((status, got), (200, self.size))


if __name__ == "__main__":
    unittest.main()
