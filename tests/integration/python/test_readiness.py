# SPDX-License-Identifier: MIT
"""GET /readyz (docs/protocol.md, "Endpoints"; docs/operations.md,
"Health and readiness"): ready while a publication would be accepted, not
ready while the broker cannot take one (Redis down) or the server stops;
/healthz stays liveness only. The Redis log events of an outage and its end.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import time
import unittest
import uuid

from notifier_testlib import (
    JSON_HEADERS,
    TIMEOUT,
    ClientHelpers,
    NotifierServer,
    ServerTestCase,
    http_request,
    notification,
)
from redis_testlib import RedisServer, redis_server_path

# Nodes reconnect with a back-off of up to 2 s between attempts.
RECOVERY_TIMEOUT = 20.0


class ReadyzTest(ServerTestCase):

    async def test_ready(self):
        res = await self.http("GET", "/readyz")
        self.assertEqual(res.status, 200, res.body)
        self.assertTrue(res.header("content-type").startswith("application/json"))
        self.assertEqual(res.header("cache-control"), "no-store")
        self.assertEqual(res.json(), {"status": "ready"})
        head = await self.http("HEAD", "/readyz")
        self.assertEqual((head.status, head.body), (200, b""))

    async def test_other_methods_405(self):
        for method in ["POST", "PUT", "DELETE"]:
            with self.subTest(method=method):
                res = await self.http(method, "/readyz", "{}", JSON_HEADERS)
                self.assert_error_body(res, 405, "method_not_allowed")
                self.assertEqual(res.header("allow"), "GET, HEAD")

    async def test_keep_alive_and_publish_between(self):
        def run():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                statuses = []
                for _ in range(3):
                    statuses.append(http_request(self.port, "GET", "/readyz", conn=conn).status)
                    statuses.append(http_request(self.port, "POST", "/publish", b'{"collection":"r","action":"a"}',
                                                 JSON_HEADERS, conn=conn).status)
                return statuses
            finally:
                conn.close()
        self.assertEqual(await asyncio.to_thread(run), [200, 202] * 3)


class ReadyzWhileStoppingTest(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    """Once a stop begins, nothing answers 200 on /readyz any more: the
    listener is closed and open HTTP connections end, while WebSocket
    sessions still have --close-timeout to answer their close."""

    async def asyncSetUp(self):
        self.server = NotifierServer("--close-timeout", "30").start()
        self.addCleanup(self.server.kill)

    async def test_not_ready_once_stopping(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)
        self.addCleanup(conn.close)
        res = await asyncio.to_thread(http_request, self.server.port, "GET", "/readyz", conn=conn)
        self.assertEqual((res.status, res.json()), (200, {"status": "ready"}))
        raw = self.raw()  # keeps the hub stopping: it answers the close only when told
        self.assertEqual(raw.recv_json()["type"], "welcome")
        self.server.terminate()
        code, reason, _ = await asyncio.to_thread(raw.expect_close)
        self.assertEqual((code, reason), (1001, "server shutdown"))
        # Still stopping (the session has not answered): the kept-alive
        # connection was ended without another answer, a new one is refused.
        conn.sock.settimeout(TIMEOUT)
        self.assertEqual(await asyncio.to_thread(conn.sock.recv, 1), b"")
        with self.assertRaises(ConnectionRefusedError):
            await asyncio.to_thread(socket.create_connection, ("127.0.0.1", self.server.port), TIMEOUT)
        self.assertTrue(self.server.running())
        raw.send_close(1001)
        self.assertEqual(await asyncio.to_thread(self.server.wait, TIMEOUT), 0)


@unittest.skipIf(redis_server_path() is None, "redis-server is not installed")
class ReadyzWithRedisTest(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    """A node on a real redis-server that goes away and comes back."""

    async def asyncSetUp(self):
        self.redis = RedisServer()
        self.addCleanup(self.redis.close)
        self.redis.start()
        url = f"{self.redis.url}/notifier-readyz-{uuid.uuid4().hex[:8]}"
        self.server = NotifierServer("--redis", url).start()
        self.addCleanup(self.server.stop)

    async def wait_for_log(self, text: str, timeout: float = TIMEOUT) -> None:
        """Waits for a line on the node's stderr (read by another thread)."""
        deadline = time.monotonic() + timeout
        while text not in self.server.stderr():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout}s; stderr: {self.server.stderr()}")
            await asyncio.sleep(0.02)

    async def test_not_ready_while_redis_is_down_and_ready_again_after(self):
        self.assertEqual((await self.http("GET", "/readyz")).json(), {"status": "ready"})
        await asyncio.to_thread(self.redis.stop)
        await self.wait_for_log("level=warn event=redis_connection_lost")
        res = await self.http("GET", "/readyz")
        self.assert_error_body(res, 503, "not_ready")
        self.assertEqual(res.header("cache-control"), "no-store")
        # The same verdict as a publication gets; liveness is unaffected.
        publish = await self.post(notification("while-down"))
        self.assert_error_body(publish, 503, "unavailable")
        health = await self.http("GET", "/healthz")
        self.assertEqual((health.status, health.json()), (200, {"status": "ok"}))
        self.assertNotIn("event=redis_reconnected", self.server.stderr())

        await asyncio.to_thread(self.redis.start)  # same port
        await self.wait_for_log("level=info event=redis_reconnected", RECOVERY_TIMEOUT)
        res = await self.http("GET", "/readyz")
        self.assertEqual((res.status, res.json()), (200, {"status": "ready"}))
        lines = [line for line in self.server.stderr().splitlines() if "event=redis_reconnected" in line]
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r'detail="Redis connections restored after \d+ ms"')


if __name__ == "__main__":
    unittest.main()
