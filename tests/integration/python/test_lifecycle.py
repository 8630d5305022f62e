# SPDX-License-Identifier: MIT
"""Startup failures, graceful shutdown and liveness (docs/configuration.md,
"Errors"; docs/protocol.md, "Close codes" and "Liveness")."""

import asyncio
import http.client
import os
import socket
import subprocess
import time
import unittest

from notifier_testlib import (
    OP_PING,
    OP_PONG,
    OP_TEXT,
    TIMEOUT,
    ClientHelpers,
    NotifierServer,
    ServerTestCase,
    notification,
    notifierd_path,
    recv_json,
    wait_closed,
)


class ShutdownTest(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    """A server per test, since each test stops it."""

    async def asyncSetUp(self):
        self.server = NotifierServer().start()
        self.addCleanup(self.server.kill)

    async def test_sigterm_closes_clients_1001_and_exits_0(self):
        ws1, _ = await self.connect()
        ws2, _ = await self.connect("collections=posts")
        [seq] = await self.publish(notification("posts"))
        self.assertEqual((await recv_json(ws1))["seq"], seq)
        self.assertEqual((await recv_json(ws2))["seq"], seq)

        started = time.monotonic()
        self.server.terminate()
        results = await asyncio.gather(wait_closed(ws1), wait_closed(ws2))
        self.assertEqual(results, [(1001, "server shutdown")] * 2)
        code = await asyncio.to_thread(self.server.wait, 3.0)
        self.assertEqual(code, 0, self.server.stderr())
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertIn(b"notifierd stopped", self.server.stdout_tail)

    async def test_sigterm_without_clients_exits_0(self):
        await asyncio.to_thread(self.server.stop, 3.0)

    async def test_sigterm_closes_raw_client_and_idle_http_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)
        self.addCleanup(conn.close)
        conn.request("GET", "/healthz")
        self.assertEqual(conn.getresponse().read(), b'{"status":"ok"}')
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        self.server.terminate()
        code, reason, _ = await asyncio.to_thread(raw.expect_close)
        self.assertEqual((code, reason), (1001, "server shutdown"))
        raw.send_close(1001)
        self.assertEqual(await asyncio.to_thread(raw.expect_eof), [])
        # The idle keep-alive connection is closed too (EOF, nothing sent).
        conn.sock.settimeout(TIMEOUT)
        self.assertEqual(await asyncio.to_thread(conn.sock.recv, 1), b"")
        self.assertEqual(await asyncio.to_thread(self.server.wait, 3.0), 0)


class StartupFailureTest(unittest.TestCase):
    """A server that cannot start says why in one line and exits with 1."""

    def test_busy_port(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
            r = subprocess.run([notifierd_path(), "--listen", f"127.0.0.1:{port}"], capture_output=True, text=True,
                               timeout=TIMEOUT * 2, env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"notifierd: cannot listen on 127.0.0.1:{port}: address already in use\n", r.stderr)
        # The reason only: no library source locations, no error category dump.
        for noise in ("boost", "/usr/include", "[system:", "asio"):
            self.assertNotIn(noise, r.stderr)
        self.assertNotIn("listening", r.stdout)


class LivenessTest(ServerTestCase):
    server_flags = ("--ping-interval", "1")

    async def test_answering_client_stays_silent_client_dropped(self):
        silent = self.raw()
        answering = self.raw()
        self.assertEqual(silent.recv_json()["type"], "welcome")
        self.assertEqual(answering.recv_json()["type"], "welcome")

        def keep_answering():
            pings = 0
            while pings < 3:
                f = answering.recv_frame(timeout=3.0)   # one interval plus a margin
                if f.opcode == OP_PING:
                    answering.send_frame(OP_PONG, f.payload)
                    pings += 1
            return pings

        self.assertEqual(await asyncio.to_thread(keep_answering), 3)
        # Still connected after three intervals.
        answering.send_text('{"type":"ping"}')
        while True:
            f = await asyncio.to_thread(answering.recv_frame)
            if f.opcode == OP_PING:
                answering.send_frame(OP_PONG, f.payload)
                continue
            self.assertEqual((f.opcode, f.json()), (OP_TEXT, {"type": "pong"}))
            break

        # The silent one was dropped: only pings (no close handshake) then EOF.
        frames = await asyncio.to_thread(silent.expect_eof, TIMEOUT)
        self.assertTrue(frames, "expected at least one ping before the drop")
        self.assertTrue(all(f.opcode == OP_PING for f in frames), [f.opcode for f in frames])

    async def test_library_client_answers_pings_and_stays(self):
        # The websockets library answers pings on its own.
        ws, _ = await self.connect()
        raw = self.raw()
        raw.recv_json()
        # Wait for the silent raw client to be dropped (about two intervals):
        # by then the library client has been pinged at least twice.
        await asyncio.to_thread(raw.expect_eof, TIMEOUT)
        [seq] = await self.publish(notification("alive"))
        self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_text_frames_count_as_liveness(self):
        # Anything arriving counts: a client that only sends {"type":"ping"}
        # after each server ping (as browsers do) stays connected.
        raw = self.raw()
        raw.recv_json()

        def browser_like():
            pings = 0
            while pings < 3:
                f = raw.recv_frame(timeout=3.0)
                if f.opcode == OP_PING:
                    raw.send_text('{"type":"ping"}')
                    pings += 1
                else:
                    self.assertEqual(f.json(), {"type": "pong"})
            return pings

        self.assertEqual(await asyncio.to_thread(browser_like), 3)
        raw.send_text('{"type":"subscribe","collections":["x"]}')
        while True:
            f = await asyncio.to_thread(raw.recv_frame)
            if f.opcode == OP_TEXT and f.json().get("type") == "subscribed":
                break
            if f.opcode == OP_PING:
                raw.send_text('{"type":"ping"}')


if __name__ == "__main__":
    unittest.main()
