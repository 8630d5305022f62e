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

        def run():
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
                s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Expect: 100-continue\r\nConnection: close\r\n"
                          b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
                interim = s.recv(65536)  # the client waits for this before sending the body
                s.sendall(body)
                final = b""
                while chunk := s.recv(65536):
                    final += chunk
                return interim, final
        interim, final = await asyncio.to_thread(run)
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
