# SPDX-License-Identifier: MIT
"""GET /sse (docs/protocol.md, "Server-Sent Events"): the stream's head and
framing, every event, notifications as the WebSocket frame's text, resume by
Last-Event-ID under publishing, resync, slow consumer, shutdown, refusals,
filters, and curl as a client nobody here wrote."""

import asyncio
import json
import re
import shutil
import subprocess
import urllib.parse

from notifier_testlib import (
    NotifierServer,
    ServerTestCase,
    kernel_send_buffer_max,
    notification,
    recv_json,
    recv_text,
)
from sse_client import SseClient
from test_security import AUDIENCE, ISSUER, SECRET, claims, hs256


class SseTestCase(ServerTestCase):

    async def open(self, query: str = "", headers: dict | None = None, server=None, **kwargs) -> SseClient:
        target = "/sse" + (f"?{query}" if query else "")
        c = await asyncio.to_thread(SseClient, (server or self.server).port, target, headers, **kwargs)
        self.addCleanup(c.close)
        return c

    async def welcome(self, c: SseClient) -> dict:
        e = await asyncio.to_thread(c.event)
        self.assertEqual(e["event"], "welcome", e)
        return json.loads(e["data"])

    async def until(self, c: SseClient, seq: int) -> list[dict]:
        """Events up to and including the notification with `seq`."""
        return await asyncio.to_thread(c.events_until, lambda e: e["event"] == "message"
                                       and json.loads(e["data"])["seq"] == seq)


class SseStreamTest(SseTestCase):

    async def test_head_welcome_and_notifications_as_the_websocket_frames_text(self):
        ws, _ = await self.connect("collections=posts")
        c = await self.open("collections=posts")
        self.assertEqual(c.status, 200)
        self.assertEqual(c.headers["content-type"], "text/event-stream")
        self.assertEqual(c.headers["cache-control"], "no-cache")
        self.assertEqual(c.headers["x-accel-buffering"], "no")
        self.assertEqual(c.headers["transfer-encoding"], "chunked")
        self.assertEqual(c.headers["connection"], "close")  # the stream ends with it
        first = await asyncio.to_thread(c.event)
        self.assertEqual(first["event"], "welcome")
        welcome = json.loads(first["data"])
        self.assertEqual(set(welcome), {"type", "protocol", "epoch", "seq", "resumed"})
        self.assertEqual((welcome["type"], welcome["resumed"]), ("welcome", False))
        # A fresh stream's welcome is a cursor: a reconnect before any
        # notification resumes from there.
        self.assertEqual(first["id"], f"{welcome['epoch']}:{welcome['seq']}")
        # Whitespace with line breaks between tokens: several data lines,
        # joined back with "\n" into the very text the WebSocket carries.
        raw = '{"collection":"posts","action":"create","id":"1","data":{\n  "title": "a\\nb",\n  "n": 1.50}}'
        res = await self.post(raw=raw)
        self.assertEqual(res.status, 202, res.body)
        [seq] = res.json()["seqs"]
        [n2] = await self.publish(notification("posts", "update", id="2", data=[1, 2]))
        frames = [await recv_text(ws), await recv_text(ws)]
        events = await self.until(c, n2)
        self.assertEqual([e["event"] for e in events], ["message", "message"])
        self.assertEqual([e["data"] for e in events], frames)
        self.assertEqual([e["id"] for e in events], [f"{welcome['epoch']}:{seq}", f"{welcome['epoch']}:{n2}"])
        self.assertGreaterEqual(c.chunks, 2)

    async def test_resume_by_last_event_id_while_publishing_has_no_gap_and_no_duplicate(self):
        c = await self.open("collections=load")
        welcome = await self.welcome(c)
        published: list[int] = []

        async def publisher():
            for i in range(40):
                published.extend(await self.publish([notification("load", "put", id=str(i)),
                                                     notification("other", "put", id=str(i))]))

        task = asyncio.create_task(publisher())
        got = [e for e in await asyncio.to_thread(c.events_until, lambda e: e["event"] == "message")]
        last_id = got[-1]["id"]
        c.close()  # the browser lost the connection; it comes back with the last id
        # The header wins over the query's since and epoch.
        c2 = await self.open("collections=load&since=0&epoch=wrong", headers={"Last-Event-ID": last_id})
        w2 = await self.welcome(c2)
        self.assertTrue(w2["resumed"], w2)
        await task
        [marker] = await self.publish(notification("load", "marker"))
        rest = await self.until(c2, marker)
        seqs = [json.loads(e["data"])["seq"] for e in got + rest]
        self.assertEqual(seqs[:-1], published[0::2], "a gap or a duplicate across the reconnect")
        self.assertEqual(seqs[-1], marker)
        self.assertEqual(int(last_id.split(":")[1]), seqs[0])
        self.assertEqual(welcome["epoch"], w2["epoch"])

    async def test_an_unknown_epoch_resyncs_with_a_new_cursor(self):
        [seq] = await self.publish(notification("rs", "before"))
        c = await self.open("collections=rs", headers={"Last-Event-ID": "not-the-epoch:1"})
        welcome = await self.welcome(c)
        self.assertFalse(welcome["resumed"])
        e = await asyncio.to_thread(c.event)
        self.assertEqual(e["event"], "resync")
        resync = json.loads(e["data"])
        self.assertEqual(resync, {"type": "resync", "epoch": welcome["epoch"], "seq": resync["seq"]})
        self.assertGreaterEqual(resync["seq"], seq)
        self.assertEqual(e["id"], f"{welcome['epoch']}:{resync['seq']}")
        [after] = await self.publish(notification("rs", "after"))
        self.assertEqual(json.loads((await self.until(c, after))[-1]["data"])["seq"], after)

    async def test_filters_and_a_resume_that_replays_only_matching_history(self):
        q = "collections=" + urllib.parse.quote("posts[forum_id=7]", safe="")
        c = await self.open(q)
        welcome = await self.welcome(c)
        seqs = await self.publish([notification("posts", "create", id="1", data={"forum_id": 7}),
                                   notification("posts", "create", id="2", data={"forum_id": 8}),
                                   {**notification("posts", "update", id="2", data={"forum_id": 9}),
                                    "old": {"forum_id": 7}}])
        [marker] = await self.publish(notification("posts", "marker"))
        live = [json.loads(e["data"])["seq"] for e in await self.until(c, marker)]
        self.assertEqual(live, [seqs[0], seqs[2], marker])
        replay = await self.open(q + f"&since={welcome['seq']}&epoch={welcome['epoch']}")
        self.assertTrue((await self.welcome(replay))["resumed"])
        self.assertEqual([json.loads(e["data"])["seq"] for e in await self.until(replay, marker)], live)

    async def test_invalid_requests_are_refused_with_http_errors(self):
        for query, headers, status, code in [
            ("collections=bad%20name", {}, 400, "invalid_name"),
            ("since=x", {}, 400, "invalid_query"),
            ("", {"Last-Event-ID": "no-seq"}, 400, "invalid_query"),
            ("", {"Last-Event-ID": "e:-1"}, 400, "invalid_query"),
            ("", {"Origin": "http://elsewhere.example"}, 403, "forbidden_origin"),
        ]:
            with self.subTest(query=query, headers=headers):
                c = await self.open(query, headers)
                self.assertEqual(c.status, status)
                self.assertEqual(c.json_body()["error"], code)
        res = await self.http("POST", "/sse")
        self.assertEqual(res.status, 405)

    async def test_http_1_0_stream_ends_with_the_connection(self):
        c = await self.open("collections=v10", version="1.0")
        self.assertEqual(c.status_line.split()[0], "HTTP/1.0")
        self.assertNotIn("transfer-encoding", c.headers)
        await self.welcome(c)
        [seq] = await self.publish(notification("v10", "x"))
        self.assertEqual(json.loads((await self.until(c, seq))[-1]["data"])["seq"], seq)

    async def test_metrics_count_streams_apart_from_websockets(self):
        def sample(text: str, name: str) -> float:
            m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
            return float(m.group(1)) if m else 0.0

        before = (await self.http("GET", "/metrics")).body.decode()
        c = await self.open("collections=metrics")
        await self.welcome(c)
        during = (await self.http("GET", "/metrics")).body.decode()
        self.assertEqual(sample(during, "notifier_sse_streams"), 1)
        self.assertEqual(sample(during, "notifier_sse_streams_opened_total"),
                         sample(before, "notifier_sse_streams_opened_total") + 1)
        self.assertEqual(sample(during, "notifier_websocket_sessions"), sample(before, "notifier_websocket_sessions"))
        closed = 'notifier_sse_streams_closed_total{code="1006"}'
        c.close()  # the client goes away: counted once the server sees it

        async def counted() -> bool:
            text = (await self.http("GET", "/metrics")).body.decode()
            return sample(text, closed) == sample(before, closed) + 1 and sample(text, "notifier_sse_streams") == 0

        for _ in range(200):
            if await counted():
                break
            await asyncio.sleep(0.01)  # polling a counter: no event to await
        self.assertTrue(await counted())

    async def test_curl_reads_the_stream(self):
        curl = shutil.which("curl")
        if not curl:
            self.skipTest("curl is not installed")
        proc = await asyncio.create_subprocess_exec(
            curl, "-sN", "--max-time", "20", f"http://127.0.0.1:{self.port}/sse?collections=curl",
            stdout=asyncio.subprocess.PIPE)
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 10)
            self.assertEqual(line, b"event: welcome\n")
            [seq] = await self.publish(notification("curl", "hello", data={"x": 1}))
            while not line.startswith(b"data: {\"seq\""):
                line = await asyncio.wait_for(proc.stdout.readline(), 10)
            self.assertEqual(json.loads(line[6:]), {"seq": seq, "collection": "curl", "action": "hello",
                                                    "data": {"x": 1}})
        finally:
            proc.kill()
            await proc.wait()


class SsePingTest(SseTestCase):
    server_flags = ("--ping-interval", "1")

    async def test_an_idle_stream_gets_comment_lines(self):
        c = await self.open("collections=quiet")
        await self.welcome(c)
        self.assertEqual(await asyncio.to_thread(c.event), {"comment": "ping"})


QUEUE_BYTES = 65536
DATA_BYTES = 5000
RCVBUF = 4096
COUNT = (kernel_send_buffer_max() + 2 * RCVBUF + 2 * QUEUE_BYTES + (256 << 10)) // DATA_BYTES + 1


class SseSlowConsumerTest(SseTestCase):
    server_flags = ("--max-queue-bytes", str(QUEUE_BYTES), "--close-timeout", "20")

    async def test_a_stalled_stream_ends_with_close_4008_after_a_gap_free_prefix(self):
        stalled = await self.open("collections=big", rcvbuf=RCVBUF)
        reader, welcome = await self.connect("collections=big")
        payload = "x" * DATA_BYTES
        for first in range(0, COUNT, 8):
            seqs = await self.publish([notification("big", "put", id=str(i), data={"pad": payload})
                                       for i in range(first, min(first + 8, COUNT))])
            for _ in seqs:
                await recv_json(reader)  # the reading client keeps up
        events = await asyncio.to_thread(stalled.rest)
        self.assertEqual(events[0]["event"], "welcome")
        self.assertEqual(events[-1]["event"], "close")
        self.assertEqual(json.loads(events[-1]["data"]), {"code": 4008, "reason": "slow consumer"})
        got = [json.loads(e["data"])["seq"] for e in events[1:-1]]
        self.assertEqual(got, list(range(welcome["seq"] + 1, welcome["seq"] + 1 + len(got))))
        self.assertLess(len(got), COUNT)
        self.assertFalse(stalled.truncated, "the body did not end with its last chunk")
        await self.assert_serves()


class SseStallTest(SseTestCase):
    # A queue limit no stall reaches: only the stall rule can end it.
    server_flags = ("--ping-interval", "1", "--max-queue-bytes", str(256 << 20))

    async def test_a_stream_whose_events_do_not_move_for_an_interval_is_dropped(self):
        def sample(text: str, name: str) -> float:
            m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
            return float(m.group(1)) if m else 0.0

        closed = 'notifier_sse_streams_closed_total{code="1006"}'
        before = sample((await self.http("GET", "/metrics")).body.decode(), closed)
        stalled = await self.open("collections=stall", rcvbuf=RCVBUF)  # reads nothing from here on
        count = (kernel_send_buffer_max() + 2 * RCVBUF + (512 << 10)) // DATA_BYTES + 1
        for first in range(0, count, 50):
            await self.publish([notification("stall", "put", id=str(i), data={"pad": "z" * DATA_BYTES})
                                for i in range(first, min(first + 50, count))])

        async def dropped() -> bool:
            text = (await self.http("GET", "/metrics")).body.decode()
            return sample(text, "notifier_sse_streams") == 0 and sample(text, closed) == before + 1

        for _ in range(int(10 / 0.05)):  # two ping intervals and a margin
            if await dropped():
                break
            await asyncio.sleep(0.05)  # polling a counter: no event to await
        self.assertTrue(await dropped())
        stalled.close()
        await self.assert_serves()


class SseShutdownTest(SseTestCase):

    async def test_shutdown_ends_every_stream_with_close_1001(self):
        server = NotifierServer().start()
        try:
            c = await self.open("collections=x", server=server)
            await self.welcome(c)
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            events = await asyncio.to_thread(c.rest)
            c.close()  # as EventSource does at the end of a body: the server need not wait
            await stopping
            self.assertEqual([e["event"] for e in events], ["close"])
            self.assertEqual(json.loads(events[0]["data"]), {"code": 1001, "reason": "server shutdown"})
            self.assertFalse(c.truncated)
        finally:
            if server.running():
                server.kill()


class SseTokenTest(SseTestCase):
    server_flags = ("--jwt-secret", SECRET, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
                    "--allow-origin", "https://app.example")

    def token(self, read):
        return urllib.parse.quote(hs256(claims(read)), safe="")

    async def refused(self, query: str) -> dict:
        c = await self.open(query)
        self.assertEqual(c.status, 200)  # told in the stream, where an EventSource reads it
        events = await asyncio.to_thread(c.rest)
        self.assertEqual([e["event"] for e in events], ["close"])
        self.assertFalse(c.truncated)
        return json.loads(events[0]["data"])

    async def test_token_refusals_are_close_events(self):
        no_token = await self.refused("collections=posts")
        self.assertEqual((no_token["code"], no_token["reason"], no_token["error"]), (4401, "unauthorized", "unauthorized"))
        self.assertTrue(no_token["message"])
        bad = await self.refused("token=not.a.token")
        self.assertEqual(bad["code"], 4401)
        forbidden = await self.refused(f"token={self.token(['forums'])}&collections=posts")
        self.assertEqual((forbidden["code"], forbidden["reason"], forbidden["error"]), (4403, "forbidden", "forbidden"))

    async def test_a_valid_token_streams_what_it_may_read_and_an_allowed_origin_reads_it(self):
        c = await self.open(f"token={self.token(['posts[forum_id=7]'])}", {"Origin": "https://app.example"})
        self.assertEqual(c.headers["access-control-allow-origin"], "https://app.example")
        await self.welcome(c)
        seqs = await self.publish([notification("posts", "create", id="1", data={"forum_id": 8}),
                                   notification("posts", "create", id="2", data={"forum_id": 7})])
        self.assertEqual([json.loads(e["data"])["seq"] for e in await self.until(c, seqs[1])], [seqs[1]])


if __name__ == "__main__":
    import unittest
    unittest.main()
