# SPDX-License-Identifier: MIT
"""Several notifierd nodes on one Redis (docs/scaling.md): one sequence for
the cluster, resume on any node, node restarts and Redis outages.

Every test gets its own throwaway redis-server (redis_testlib) and three
nodes on it, each on its own port. Clients check the delivery guarantee of
docs/protocol.md on every frame: a notification's seq is the client's
cursor + 1, a resync moves the cursor (and the epoch); anything else — a
gap, a duplicate, a reordering — is recorded and fails the test.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402
import websockets.exceptions  # noqa: E402

from notifier_testlib import (  # noqa: E402
    JSON_HEADERS,
    TIMEOUT,
    HttpResponse,
    NotifierServer,
    notification,
    http_request,
    notifierd_path,
    post_publish,
    publish,
    recv_json,
    ws_connect,
)
from redis_testlib import RedisServer, free_port, require_redis_server  # noqa: E402

# Waits that span a Redis outage: nodes reconnect with a back-off of up to
# 2 s between attempts, then catch up from the stream.
RECOVERY_TIMEOUT = 20.0
# Waits for a stream of a few thousand notifications to arrive.
STREAM_TIMEOUT = 30.0


def setUpModule() -> None:
    require_redis_server()  # skips the whole module when redis-server is missing


# --------------------------------------------------------------------------
# A client that checks every frame
# --------------------------------------------------------------------------

class Client:
    """A WebSocket client reading in the background. It keeps its cursor as
    docs/protocol.md defines it and records every notification (seq and
    exact bytes), every resync and every breach of the guarantee."""

    def __init__(self, name: str, ws, welcome: dict, since: int | None):
        self.name = name
        self.ws = ws
        self.welcome = welcome
        self.epoch: str = welcome["epoch"]
        self.cursor: int = since if welcome["resumed"] else welcome["seq"]
        self.seqs: list[int] = []
        self.texts: list[str] = []
        self.resyncs: list[tuple[str, int]] = []
        self.events: list[Any] = []  # seqs and ("resync", epoch, seq), in arrival order
        self.pongs = 0
        self.violations: list[str] = []
        self.closed: tuple[int | None, str] | None = None
        self._cond = asyncio.Condition()
        self._task = asyncio.create_task(self._run())

    @classmethod
    async def open(cls, name: str, node: NotifierServer, since: int | None = None,
                   epoch: str | None = None) -> "Client":
        query = "" if since is None else f"since={since}" + (f"&epoch={epoch}" if epoch is not None else "")
        ws = await ws_connect(node, query)
        welcome = await recv_json(ws)
        if not (isinstance(welcome, dict) and welcome.get("type") == "welcome"):
            raise AssertionError(f"{name}: expected welcome, got {welcome!r}")
        return cls(name, ws, welcome, since)

    async def _run(self) -> None:
        try:
            async for text in self.ws:
                async with self._cond:
                    self._on_frame(text)
                    self._cond.notify_all()
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            async with self._cond:
                self.closed = (self.ws.close_code, self.ws.close_reason)
                self._cond.notify_all()

    def _on_frame(self, text: str | bytes) -> None:
        if not isinstance(text, str):
            self.violations.append(f"{self.name}: binary frame {text[:80]!r}")
            return
        frame = json.loads(text)
        kind = frame.get("type") if isinstance(frame, dict) else "?"
        if kind is None and "seq" in frame:
            seq = frame["seq"]
            if seq != self.cursor + 1:
                what = "duplicate/reordered" if seq <= self.cursor else "gap"
                self.violations.append(f"{self.name}: {what}: seq {seq} after cursor {self.cursor} "
                                       f"(epoch {self.epoch})")
            self.cursor = seq
            self.seqs.append(seq)
            self.texts.append(text)
            self.events.append(seq)
        elif kind == "resync":
            self.epoch, self.cursor = frame["epoch"], frame["seq"]
            self.resyncs.append((self.epoch, self.cursor))
            self.events.append(("resync", self.epoch, self.cursor))
        elif kind == "pong":
            self.pongs += 1
        else:
            self.violations.append(f"{self.name}: unexpected frame {text[:200]}")

    def describe(self) -> str:
        tail = self.events[-5:]
        return (f"{self.name}: cursor {self.cursor}, epoch {self.epoch}, {len(self.seqs)} notifications, "
                f"resyncs {self.resyncs}, closed {self.closed}, last events {tail}, "
                f"violations {self.violations[:5]}")

    async def wait_until(self, predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: predicate() or self.closed is not None),
                                       timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; {self.describe()}") from None
            if not predicate():
                raise AssertionError(f"connection ended while waiting for {what}; {self.describe()}")

    async def wait_seq(self, seq: int, epoch: str | None = None, timeout: float = TIMEOUT) -> None:
        await self.wait_until(lambda: self.cursor >= seq and (epoch is None or self.epoch == epoch),
                              f"seq {seq}" + (f" of epoch {epoch}" if epoch else ""), timeout)

    async def wait_resync(self, count: int = 1, timeout: float = TIMEOUT) -> None:
        await self.wait_until(lambda: len(self.resyncs) >= count, f"resync #{count}", timeout)

    async def ping(self) -> None:
        """{"type":"ping"} answered by a pong: the connection is alive."""
        before = self.pongs
        await self.ws.send('{"type":"ping"}')
        await self.wait_until(lambda: self.pongs > before, "pong")

    async def close(self) -> None:
        """Closes and returns once every frame that arrived was processed."""
        try:
            await asyncio.wait_for(self.ws.close(), TIMEOUT)
        except (asyncio.TimeoutError, OSError):
            self.ws.transport.abort()
        await asyncio.wait_for(self._task, TIMEOUT)

    async def ended(self, timeout: float = TIMEOUT) -> None:
        """Waits for the server side to end the connection."""
        await asyncio.wait_for(self._task, timeout)


# --------------------------------------------------------------------------
# Publishing from a thread
# --------------------------------------------------------------------------

class Publisher:
    """Publishes batches to one node from a thread over one keep-alive
    connection while `keep_going(acknowledged_count)` holds, and stops at the
    first answer that is not 202 (kept in `refusal`). Notification k carries
    data {"by": tag, "n": k}."""

    def __init__(self, node: NotifierServer, tag: str, batch: int = 10, collection: str = "load",
                 timeout: float = RECOVERY_TIMEOUT):
        self.node = node
        self.timeout = timeout
        self.tag = tag
        self.batch = batch
        self.collection = collection
        self.acked: list[int] = []  # seqs answered 202, in order
        self.refusal: HttpResponse | None = None

    def run(self, keep_going: Callable[[int], bool]) -> "Publisher":
        conn = http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=self.timeout)
        try:
            n = 0
            while keep_going(len(self.acked)):
                payload = [notification(self.collection, id=str(n + i), data={"by": self.tag, "n": n + i})
                           for i in range(self.batch)]
                res = post_publish(self.node.port, payload, conn=conn)
                if res.status != 202:
                    self.refusal = res
                    return self
                seqs = res.json()["seqs"]
                if len(seqs) != self.batch:
                    raise AssertionError(f"{self.tag}: {len(seqs)} seqs for a batch of {self.batch}")
                self.acked.extend(seqs)
                n += self.batch
        finally:
            conn.close()
        return self

    def start(self, keep_going: Callable[[int], bool]) -> "asyncio.Task[Publisher]":
        return asyncio.ensure_future(asyncio.to_thread(self.run, keep_going))


def spans(seqs: list[int]) -> str:
    """[3, 4, 5, 9] -> "3..5, 9"."""
    out: list[str] = []
    for s in seqs:
        if out and int(out[-1].rsplit(".", 1)[-1]) == s - 1:
            out[-1] = out[-1].split("..")[0] + f"..{s}"
        else:
            out.append(str(s))
    return ", ".join(out)


def assert_unavailable(res: HttpResponse, node_name: str) -> None:
    """POST /publish while Redis is unreachable: 503 {"error":"unavailable",...}."""
    if res.status != 503:
        raise AssertionError(f"{node_name}: POST /publish answered {res.status} {res.body[:200]!r}, expected 503")
    if not (res.header("content-type") or "").startswith("application/json"):
        raise AssertionError(f"{node_name}: 503 without a JSON body: {res.headers}")
    body = res.json()
    if body.get("error") != "unavailable" or not body.get("message"):
        raise AssertionError(f"{node_name}: unexpected 503 body {body}")


# --------------------------------------------------------------------------
# Test case base: one Redis, three nodes
# --------------------------------------------------------------------------

class ClusterTestCase(unittest.IsolatedAsyncioTestCase):
    redis_persistent = False
    node_flags: tuple[str, ...] = ()

    async def asyncSetUp(self) -> None:
        self.redis = RedisServer(persistent=self.redis_persistent)
        self.addCleanup(self.redis.close)
        self.redis.start()
        self.redis_url = f"{self.redis.url}/notifier-test-{uuid.uuid4().hex[:8]}"
        self._nodes: list[NotifierServer] = []  # running, stopped at cleanup
        self._clients: list[Client] = []
        # Cleanups run last in, first out: nodes stop before Redis does.
        self.addCleanup(self._stop_nodes)
        self.addAsyncCleanup(self._close_clients)
        self.a, self.b, self.c = (self.start_node() for _ in range(3))

    def start_node(self) -> NotifierServer:
        node = NotifierServer("--redis", self.redis_url, *self.node_flags).start()
        self._nodes.append(node)
        return node

    def stop_node(self, node: NotifierServer) -> None:
        """SIGTERM; asserts a clean exit with status 0."""
        self._nodes.remove(node)
        node.stop()

    def kill_node(self, node: NotifierServer) -> None:
        self._nodes.remove(node)
        node.kill()
        node.wait(TIMEOUT)

    def freeze(self, node: NotifierServer) -> None:
        """SIGSTOP: the node reads nothing, from Redis or from clients."""
        assert node.proc is not None
        node.proc.send_signal(signal.SIGSTOP)
        self.addCleanup(self.thaw, node)

    def thaw(self, node: NotifierServer) -> None:
        if node.running():
            node.proc.send_signal(signal.SIGCONT)

    def key(self, name: str) -> str:
        """A Redis key of this cluster (prefix:name)."""
        return self.redis_url.rsplit("/", 1)[1] + ":" + name

    def _stop_nodes(self) -> None:
        errors = []
        for node in self._nodes:
            try:
                node.stop()
            except AssertionError as e:
                errors.append(str(e))
        self._nodes.clear()
        if errors:
            raise AssertionError("; ".join(errors))

    async def _close_clients(self) -> None:
        for c in self._clients:
            await c.close()

    async def client(self, name: str, node: NotifierServer, since: int | None = None,
                     epoch: str | None = None) -> Client:
        c = await Client.open(name, node, since, epoch)
        self._clients.append(c)
        return c

    async def publish_on(self, node: NotifierServer, payload: Any) -> list[int]:
        return await asyncio.to_thread(publish, node.port, payload)

    async def post_on(self, node: NotifierServer, payload: Any) -> HttpResponse:
        return await asyncio.to_thread(post_publish, node.port, payload)

    async def publish_when_available(self, node: NotifierServer, payload: Any,
                                     timeout: float = RECOVERY_TIMEOUT) -> list[int]:
        """Publishes once the node reaches Redis again. Nothing a client can
        observe says when a node has reconnected (with the history intact it
        sends no frame), so this retries on 503, a few times a second,
        until the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            res = await self.post_on(node, payload)
            if res.status == 202:
                return res.json()["seqs"]
            assert_unavailable(res, "node")
            if time.monotonic() > deadline:
                raise AssertionError(f"still 503 {timeout}s after Redis came back; stderr: {node.stderr()}")
            await asyncio.sleep(0.05)

    async def wait_for_log(self, node: NotifierServer, text: str, timeout: float = TIMEOUT) -> None:
        """Waits for a line on the node's stderr (read by another thread,
        so it may trail what clients already saw)."""
        deadline = time.monotonic() + timeout
        while text not in node.stderr():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout}s; stderr: {node.stderr()}")
            await asyncio.sleep(0.02)

    def assert_clean(self, *clients: Client) -> None:
        for c in clients:
            self.assertEqual(c.violations, [], c.describe())
            self.assertIsNone(c.closed, c.describe())


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

class ClusterDeliveryTest(ClusterTestCase):

    async def test_publish_on_one_node_reaches_clients_of_every_node(self):
        ca, cb, cc = [await self.client(n, node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))]
        # One cluster: the same epoch and seq whichever node a client joins.
        self.assertEqual({c.welcome["epoch"] for c in (ca, cb, cc)}, {ca.epoch})
        self.assertEqual([c.welcome["seq"] for c in (ca, cb, cc)], [0, 0, 0])

        seqs = await self.publish_on(self.b, [notification("posts", id=str(i), data={"i": i}) for i in range(3)])
        self.assertEqual(seqs, [1, 2, 3])
        for c in (ca, cb, cc):
            await c.wait_seq(3)
        expected = [json.dumps({"seq": s, "collection": "posts", "action": "create", "id": str(s - 1),
                                "data": {"i": s - 1}}, separators=(",", ":")) for s in seqs]
        for c in (ca, cb, cc):
            self.assertEqual([json.loads(t) for t in c.texts], [json.loads(t) for t in expected], c.name)
        # Every node sends the same bytes with the same seq.
        self.assertEqual(ca.texts, cc.texts)
        self.assertEqual(ca.texts, cb.texts)

        # Each node publishes into the one sequence.
        [s_a] = await self.publish_on(self.a, notification("posts", "from-a"))
        [s_c] = await self.publish_on(self.c, notification("posts", "from-c"))
        self.assertEqual((s_a, s_c), (4, 5))
        for c in (ca, cb, cc):
            await c.wait_seq(5)
            self.assertEqual(c.seqs, [1, 2, 3, 4, 5], c.name)
            self.assertEqual(c.epoch, ca.welcome["epoch"])
        self.assert_clean(ca, cb, cc)

    async def test_notifications_from_every_node_arrive_in_the_same_order_everywhere(self):
        clients = [await self.client(f"{n}{k}", node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))
                   for k in range(2)]
        per_node, batch = 300, 5
        publishers = [Publisher(node, tag, batch=batch) for tag, node in (("a", self.a), ("b", self.b),
                                                                           ("c", self.c))]
        tasks = [p.start(lambda n: n < per_node) for p in publishers]
        await asyncio.wait_for(asyncio.gather(*tasks), STREAM_TIMEOUT)
        for p in publishers:
            self.assertIsNone(p.refusal, p.refusal and p.refusal.body)
        every = sorted(s for p in publishers for s in p.acked)
        self.assertEqual(every, list(range(1, 3 * per_node + 1)), "the cluster numbers 1, 2, 3, ... once each")
        for c in clients:
            await c.wait_seq(3 * per_node, timeout=STREAM_TIMEOUT)
        # The same notifications, in the same order, byte for byte, on every node.
        for c in clients[1:]:
            self.assertEqual(c.texts, clients[0].texts, c.name)
        frames = [json.loads(t) for t in clients[0].texts]
        self.assertEqual([f["seq"] for f in frames], every)
        for p in publishers:
            mine = [f for f in frames if f["data"]["by"] == p.tag]
            # A publisher's notifications keep its order and the seqs it was told.
            self.assertEqual([f["data"]["n"] for f in mine], list(range(per_node)), p.tag)
            self.assertEqual([f["seq"] for f in mine], p.acked, p.tag)
            # A batch gets consecutive seqs.
            for k in range(0, per_node, batch):
                self.assertEqual(p.acked[k + batch - 1] - p.acked[k], batch - 1, p.tag)
        self.assert_clean(*clients)

    async def test_client_moves_between_nodes_mid_stream_without_gap_or_duplicate(self):
        target = 2000
        moved = threading.Event()
        client = await self.client("A", self.a)
        epoch = client.epoch
        publisher = Publisher(self.b, "b", batch=20)
        # Keeps publishing until the client has moved twice and 2,000 are out:
        # the moves happen while notifications keep coming.
        task = publisher.start(lambda n: (n < target or not moved.is_set()) and n < 4 * target)

        received: list[int] = []
        route = [("C", self.c, 400), ("B", self.b, 1200)]
        for name, node, at in route:
            await client.wait_seq(at, timeout=STREAM_TIMEOUT)
            self.assertFalse(task.done(), "the publisher should still be publishing")
            await client.close()
            self.assertEqual(client.violations, [], client.describe())
            received += client.seqs
            client = await self.client(name, node, since=client.cursor, epoch=epoch)
            self.assertIs(client.welcome["resumed"], True, client.welcome)
            self.assertEqual(client.welcome["epoch"], epoch)
        moved.set()

        await asyncio.wait_for(task, STREAM_TIMEOUT)
        self.assertIsNone(publisher.refusal, publisher.refusal and publisher.refusal.body)
        last = publisher.acked[-1]
        self.assertGreaterEqual(last, target)
        self.assertEqual(publisher.acked, list(range(1, last + 1)))
        await client.wait_seq(last, timeout=STREAM_TIMEOUT)
        self.assert_clean(client)
        self.assertEqual(client.resyncs, [])
        received += client.seqs
        # Across three connections on three nodes: each seq once, in order.
        self.assertEqual(received, list(range(1, last + 1)))
        self.assertEqual(json.loads(client.texts[-1])["data"], {"by": "b", "n": last - 1})

    async def test_node_killed_mid_stream_its_clients_resume_on_another_node(self):
        on_a = await self.client("A", self.a)
        on_c = await self.client("C", self.c)
        epoch = on_a.epoch
        resumed = threading.Event()
        publisher = Publisher(self.b, "b", batch=10)
        task = publisher.start(lambda n: (n < 1000 or not resumed.is_set()) and n < 8000)

        await on_a.wait_seq(300, timeout=STREAM_TIMEOUT)
        self.kill_node(self.a)  # SIGKILL: no close frame
        await on_a.ended()
        self.assertEqual(on_a.violations, [])
        moved = await self.client("A->C", self.c, since=on_a.cursor, epoch=epoch)
        self.assertIs(moved.welcome["resumed"], True, moved.welcome)
        resumed.set()

        await asyncio.wait_for(task, STREAM_TIMEOUT)
        # Losing a node does not disturb publishing through the others.
        self.assertIsNone(publisher.refusal, publisher.refusal and publisher.refusal.body)
        last = publisher.acked[-1]
        await moved.wait_seq(last, timeout=STREAM_TIMEOUT)
        await on_c.wait_seq(last, timeout=STREAM_TIMEOUT)
        self.assert_clean(moved, on_c)
        self.assertEqual(on_a.seqs + moved.seqs, list(range(1, last + 1)))
        self.assertEqual(on_c.seqs, list(range(1, last + 1)))

    async def test_resume_on_any_node_after_every_node_restarted(self):
        client = await self.client("A", self.a)
        epoch = client.epoch
        first = await self.publish_on(self.b, [notification("posts", id=str(i)) for i in range(50)])
        await client.wait_seq(first[-1])
        await client.close()
        cursor = client.cursor
        self.assertEqual(cursor, 50)
        missed = await self.publish_on(self.c, [notification("posts", "missed", id=str(i)) for i in range(30)])

        # Every node goes away (SIGTERM, exit 0) and comes back on new ports.
        old_ports = {self.a.port, self.b.port, self.c.port}
        for node in (self.a, self.b, self.c):
            self.stop_node(node)
        self.a, self.b, self.c = (self.start_node() for _ in range(3))
        self.assertFalse(old_ports & {self.a.port, self.b.port, self.c.port})

        after = await self.publish_on(self.b, [notification("posts", "after", id=str(i)) for i in range(20)])
        self.assertEqual(missed + after, list(range(51, 101)), "the sequence continues across restarts")
        fresh = await self.client("fresh", self.c)
        self.assertEqual((fresh.welcome["epoch"], fresh.welcome["resumed"]), (epoch, False))

        resumed = []
        for name, node in (("A", self.a), ("B", self.b), ("C", self.c)):
            c = await self.client(f"resume-{name}", node, since=cursor, epoch=epoch)
            self.assertEqual(c.welcome, {"type": "welcome", "protocol": 1, "epoch": epoch, "seq": 100, "resumed": True})
            resumed.append(c)
        for c in resumed:
            await c.wait_seq(100)
        [live] = await self.publish_on(self.a, notification("posts", "live"))
        for c in resumed + [fresh]:
            await c.wait_seq(live)
        for c in resumed:
            self.assertEqual(c.seqs, list(range(51, 102)), c.name)
            self.assertEqual(json.loads(c.texts[0]), {"seq": 51, "collection": "posts", "action": "missed", "id": "0"})
        # A node's welcome carries what it has dispatched: C may not have had
        # all of B's last batch yet, and then sends the rest.
        self.assertEqual(fresh.seqs, list(range(fresh.welcome["seq"] + 1, live + 1)))
        self.assert_clean(fresh, *resumed)


class SmallHistoryTest(ClusterTestCase):
    """A stream of 50 entries: what happens past its end."""

    node_flags = ("--history", "50")

    async def test_resume_older_than_the_stream_resyncs_on_another_node(self):
        client = await self.client("A", self.a)
        epoch = client.epoch
        await self.publish_on(self.b, [notification("posts", id=str(i)) for i in range(5)])
        await client.wait_seq(5)
        await client.close()
        seqs = await self.publish_on(self.b, [notification("posts", id=str(i)) for i in range(200)])
        self.assertEqual(seqs[-1], 205)
        self.assertEqual(await asyncio.to_thread(self.redis.command, "XLEN", self.key("stream")), 50)

        late = await self.client("late", self.c, since=5, epoch=epoch)
        self.assertEqual((late.welcome["epoch"], late.welcome["resumed"]), (epoch, False))
        await late.wait_resync()
        # The resync carries the welcome's seq: what this node had dispatched.
        self.assertEqual(late.resyncs, [(epoch, late.welcome["seq"])])
        [live] = await self.publish_on(self.a, notification("posts", "live"))
        await late.wait_seq(live)
        self.assertEqual(late.seqs[-1], live)
        self.assert_clean(late)

    async def lag_node_a(self, missed: int) -> tuple[list[Client], list[int]]:
        """Freezes node A (SIGSTOP), cuts every node's subscription, lets B
        and C subscribe again, publishes `missed` notifications through B,
        then lets A run again: A alone comes back having missed them on
        pub/sub. Returns clients on A, B and C and every seq published."""
        clients = [await self.client(n, node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))]
        seqs = await self.publish_on(self.b, [notification("posts", "before", id=str(i)) for i in range(5)])
        for c in clients:
            await c.wait_seq(seqs[-1])
        self.freeze(self.a)
        killed = await asyncio.to_thread(self.redis.command, "CLIENT", "KILL", "TYPE", "pubsub")
        self.assertEqual(killed, 3, "one subscription per node")
        # A node answers 202 once it dispatched the notification, which it can
        # only do subscribed again: after these two, B and C are.
        seqs += await self.publish_on(self.b, notification("posts", "probe"))
        seqs += await self.publish_on(self.c, notification("posts", "probe"))
        seqs += await self.publish_on(self.b, [notification("posts", "missed", id=str(i)) for i in range(missed)])
        self.thaw(self.a)
        return clients, seqs

    async def test_node_that_missed_pubsub_fills_the_gap_from_the_stream(self):
        clients, seqs = await self.lag_node_a(30)  # fits in the stream
        for c in clients:
            await c.wait_seq(seqs[-1], timeout=RECOVERY_TIMEOUT)
        [live] = await self.publish_on(self.c, notification("posts", "live"))
        for c in clients:
            await c.wait_seq(live)
            self.assertEqual(c.seqs, seqs + [live], c.name)
            self.assertEqual(c.resyncs, [], c.describe())
        self.assert_clean(*clients)

    async def test_node_that_missed_more_than_the_stream_holds_resyncs_its_clients(self):
        clients, seqs = await self.lag_node_a(200)
        on_a, on_b, on_c = clients
        await on_a.wait_resync(timeout=RECOVERY_TIMEOUT)
        self.assertEqual(on_a.resyncs, [(on_a.welcome["epoch"], seqs[-1])])
        await self.wait_for_log(self.a, f"Redis history no longer holds seq 6..{seqs[-1]}; clients resync")
        [live] = await self.publish_on(self.c, notification("posts", "live"))
        for c in clients:
            await c.wait_seq(live)
        self.assertEqual(on_a.seqs, seqs[:5] + [live])
        for c in (on_b, on_c):
            self.assertEqual(c.seqs, seqs + [live], c.name)
            self.assertEqual(c.resyncs, [], c.describe())
        self.assert_clean(*clients)


class RedisOutageTest(ClusterTestCase):
    """Redis restarts without its data: a new epoch, every client resyncs."""

    async def test_redis_restart_without_persistence_resyncs_every_client(self):
        clients = [await self.client(n, node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))]
        old_epoch = clients[0].epoch
        publisher = Publisher(self.b, "b", batch=10)
        # Publishes until Redis goes away (the first refusal ends it).
        task = publisher.start(lambda n: n < 50_000)
        for c in clients:
            await c.wait_seq(300, timeout=STREAM_TIMEOUT)

        await asyncio.to_thread(self.redis.stop)
        await asyncio.wait_for(task, STREAM_TIMEOUT)
        self.assertIsNotNone(publisher.refusal, "the publisher ran out before Redis stopped")
        assert_unavailable(publisher.refusal, "B")
        for name, node in (("A", self.a), ("B", self.b), ("C", self.c)):
            assert_unavailable(await self.post_on(node, notification("posts", "while-down")), name)
        # Clients stay connected meanwhile.
        for c in clients:
            await c.ping()
        # A resume needs Redis: while it is unreachable, the client resyncs.
        during = await self.client("resume-during-outage", self.a, since=10, epoch=old_epoch)
        self.assertEqual((during.welcome["resumed"], during.welcome["epoch"]), (False, old_epoch))
        await during.wait_resync()
        self.assertEqual(during.resyncs[0][0], old_epoch)
        clients.append(during)

        await asyncio.to_thread(self.redis.start)  # same port, empty
        for c in clients:
            await c.wait_until(lambda c=c: c.epoch != old_epoch, "a resync with a new epoch", RECOVERY_TIMEOUT)
        new_epoch = clients[0].epoch
        for c in clients:
            self.assertEqual(c.epoch, new_epoch, c.describe())
            self.assertEqual(c.resyncs[-1], (new_epoch, 0), c.describe())
            # Before the resync: consecutive up to where the old epoch ended.
            self.assertEqual(c.violations, [], c.describe())

        # Every node learned the new epoch: publishing works again at once.
        seqs = await self.publish_on(self.b, [notification("posts", "back", id=str(i)) for i in range(20)])
        seqs += await self.publish_on(self.a, [notification("posts", "back-a", id=str(i)) for i in range(5)])
        seqs += await self.publish_on(self.c, [notification("posts", "back-c", id=str(i)) for i in range(5)])
        self.assertEqual(seqs, list(range(1, 31)))
        for c in clients:
            await c.wait_seq(30, epoch=new_epoch)
            self.assertEqual(c.seqs[-30:], seqs, c.name)
        self.assert_clean(*clients)

        # The old epoch is gone for good: resuming with it resyncs.
        old = await self.client("old-epoch", self.c, since=100, epoch=old_epoch)
        self.assertEqual((old.welcome["resumed"], old.welcome["epoch"]), (False, new_epoch))
        await old.wait_resync()
        self.assertEqual(old.resyncs, [(new_epoch, 30)])
        # The new one resumes.
        again = await self.client("new-epoch", self.b, since=10, epoch=new_epoch)
        self.assertIs(again.welcome["resumed"], True, again.welcome)
        await again.wait_seq(30)
        self.assertEqual(again.seqs, list(range(11, 31)))
        self.assert_clean(old, again)

    async def test_publish_stored_just_before_redis_lost_its_data_gets_an_answer(self):
        on_b = await self.client("B", self.b)
        await self.publish_on(self.b, [notification("posts", id=str(i)) for i in range(5)])
        await on_b.wait_seq(5)
        old_epoch = on_b.epoch
        admin = await asyncio.to_thread(self.redis.connect)
        watcher = await asyncio.to_thread(self.redis.connect)
        self.addCleanup(admin.close)
        self.addCleanup(watcher.close)

        def cut_subscriptions() -> Any:
            # Atomically: every node loses its subscription and no new
            # connection is accepted (3 command connections + these 2).
            admin.command("MULTI")
            admin.command("CLIENT", "KILL", "TYPE", "pubsub")
            admin.command("CONFIG", "SET", "maxclients", "5")
            return admin.command("EXEC")

        self.assertEqual(await asyncio.to_thread(cut_subscriptions), [3, "OK"])
        # Redis stores the publication and answers B; B cannot receive it.
        watcher.send("XREAD", "BLOCK", "10000", "STREAMS", self.key("stream"), "5-0")
        post = asyncio.ensure_future(asyncio.to_thread(
            http_request, self.b.port, "POST", "/publish", json.dumps(notification("posts", "stored")),
            JSON_HEADERS, timeout=RECOVERY_TIMEOUT))
        [[_, [[entry_id, _]]]] = await asyncio.to_thread(watcher.reply, 15)
        self.assertEqual(entry_id, b"6-0")

        # Redis loses everything; B reconnects to a new epoch.
        await asyncio.to_thread(self.redis.stop)
        await asyncio.to_thread(self.redis.start)
        await on_b.wait_until(lambda: on_b.epoch != old_epoch, "a resync with a new epoch", RECOVERY_TIMEOUT)
        done, _ = await asyncio.wait({post}, timeout=2)
        if not done:
            # Characterise what happens: it is answered once the new epoch
            # reaches seq 6, with the old epoch's seq.
            await self.publish_on(self.a, [notification("posts", "new", id=str(i)) for i in range(6)])
            late = await asyncio.wait_for(post, TIMEOUT)
            self.fail(f"POST /publish got no answer after B moved to the new epoch; it was answered only "
                      f"after 6 more publications: {late.status} {late.body!r}")
        self.assertIn(post.result().status, (202, 503))


class RedisPartialLossTest(ClusterTestCase):
    """Redis restarts with *part* of its data: an RDB snapshot older than
    what the nodes delivered (or the last second an everysec AOF lost, or a
    replica that lagged). The epoch key survives, so the epoch stays, but
    the seq counter goes back below what clients already received."""

    async def test_redis_restored_from_an_older_snapshot_loses_nothing_silently(self):
        clients = [await self.client(n, node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))]
        epoch = clients[0].epoch
        await self.publish_on(self.b, [notification("posts", "old", id=str(i)) for i in range(100)])
        self.assertEqual(await asyncio.to_thread(self.redis.command, "SAVE"), "OK")  # snapshot at seq 100
        await self.publish_on(self.b, [notification("posts", "old", id=str(i)) for i in range(100, 150)])
        for c in clients:
            await c.wait_seq(150)
        resyncs_before = [len(c.resyncs) for c in clients]

        await asyncio.to_thread(self.redis.stop, True)  # crash: what came after the snapshot is gone
        await asyncio.to_thread(self.redis.start)
        self.assertEqual(await asyncio.to_thread(self.redis.command, "GET", self.key("seq")),
                         b"100")

        published: dict[int, dict] = {}
        batch = [notification("posts", "new", id=str(i)) for i in range(60)]
        for seq, n in zip(await self.publish_when_available(self.b, batch), batch):
            published[seq] = n
        marker = notification("posts", "marker")
        [marker_seq] = await self.publish_when_available(self.a, marker)
        published[marker_seq] = marker

        def has_marker(c: Client) -> bool:
            return any(json.loads(t)["action"] == "marker" for t in c.texts[-5:])

        for c in clients:
            await c.wait_until(lambda c=c: has_marker(c), "the marker", RECOVERY_TIMEOUT)
        for c, before in zip(clients, resyncs_before):
            if len(c.resyncs) > before:
                continue  # told to reload: nothing can be missing silently
            got = {f["seq"]: f for f in map(json.loads, c.texts) if f.get("action") in ("new", "marker")}
            missing = sorted(set(published) - set(got))
            if missing:
                self.fail(f"{c.name} got neither {len(missing)} of the {len(published)} notifications published "
                          f"after the restore (seqs {spans(missing)}, answered 202) nor a resync; {c.describe()}")
        self.assert_clean(*clients)


class RedisPersistentOutageTest(ClusterTestCase):
    """Redis with an fsync-always append-only file crashes (SIGKILL) and
    restarts: the epoch stays, every client gets everything, no resync."""

    redis_persistent = True

    async def test_redis_crash_with_aof_keeps_the_epoch_and_loses_nothing(self):
        clients = [await self.client(n, node) for n, node in (("A", self.a), ("B", self.b), ("C", self.c))]
        epoch = clients[0].epoch
        stop = threading.Event()
        publisher = Publisher(self.b, "b", batch=10)
        task = publisher.start(lambda n: not stop.is_set() and n < 50_000)
        for c in clients:
            await c.wait_seq(300, timeout=STREAM_TIMEOUT)

        await asyncio.to_thread(self.redis.stop, True)  # a crash
        stop.set()
        for name, node in (("A", self.a), ("B", self.b), ("C", self.c)):
            assert_unavailable(await self.post_on(node, notification("posts", "while-down")), name)
        for c in clients:
            await c.ping()

        await asyncio.to_thread(self.redis.start)  # same port, same append-only file
        # The request in flight at the crash: 503 if Redis did not answer
        # it; if Redis stored it and said so, 202 once B delivered it, which
        # is after Redis is back.
        await asyncio.wait_for(task, RECOVERY_TIMEOUT)
        if publisher.refusal is not None:
            assert_unavailable(publisher.refusal, "B")
        acked_before = publisher.acked[-1]
        # What was acknowledged reaches every client without a new publication.
        for c in clients:
            await c.wait_seq(acked_before, epoch=epoch, timeout=RECOVERY_TIMEOUT)
        after = await self.publish_when_available(self.b, [notification("posts", "back", id=str(i))
                                                           for i in range(20)])
        self.assertGreater(after[0], acked_before)
        for node in (self.a, self.c):
            after += await self.publish_when_available(node, notification("posts", "back-other"))
        last = after[-1]
        for c in clients:
            await c.wait_seq(last, timeout=RECOVERY_TIMEOUT)
        for c in clients:
            self.assertEqual(c.resyncs, [], c.describe())
            self.assertEqual(c.epoch, epoch)
            # Everything, once, in order — also a batch Redis stored but
            # could not acknowledge before the crash.
            self.assertEqual(c.seqs, list(range(1, last + 1)), c.name)
        self.assert_clean(*clients)

        # Resume with a cursor from before the crash, on another node.
        again = await self.client("resume", self.c, since=100, epoch=epoch)
        self.assertEqual(again.welcome,
                         {"type": "welcome", "protocol": 1, "epoch": epoch, "seq": last, "resumed": True})
        await again.wait_seq(last)
        self.assertEqual(again.seqs, list(range(101, last + 1)))
        self.assert_clean(again)


class StartupTest(unittest.TestCase):

    def test_node_exits_when_redis_is_unreachable(self):
        port = free_port()  # nothing listens there
        proc = subprocess.run([notifierd_path(), "--listen", "127.0.0.1:0", "--redis", f"redis://127.0.0.1:{port}/x"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=15)
        stderr = proc.stderr.decode(errors="replace")
        self.assertNotEqual(proc.returncode, 0, stderr)
        self.assertNotIn(b"listening", proc.stdout)
        self.assertIn(f"cannot connect to Redis at 127.0.0.1:{port}", stderr)


if __name__ == "__main__":
    unittest.main()
