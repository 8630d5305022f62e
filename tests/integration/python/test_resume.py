# SPDX-License-Identifier: MIT
"""Resume and resync (docs/protocol.md, "The delivery guarantee")."""

import asyncio
import http.client
import threading
import unittest

from notifier_testlib import (
    TIMEOUT,
    ServerTestCase,
    kernel_send_buffer_max,
    frames_before_marker,
    notification,
    publish,
    recv_json,
)


class ResumeTest(ServerTestCase):

    async def test_resume_replays_exactly_the_missed_ones(self):
        ws, welcome = await self.connect()
        epoch = welcome["epoch"]
        seqs = await self.publish([notification("r", id=str(i)) for i in range(5)])
        got = [await recv_json(ws) for _ in range(3)]
        self.assertEqual([f["seq"] for f in got], seqs[:3])
        cursor = got[-1]["seq"]
        await ws.close()

        later = await self.publish([notification("r", "later", id=str(i)) for i in range(4)])
        last = later[-1]
        ws2, welcome2 = await self.connect(f"since={cursor}&epoch={epoch}")
        self.assertEqual(welcome2, {"type": "welcome", "protocol": 1, "epoch": epoch, "seq": last, "resumed": True})
        replayed = [await recv_json(ws2) for _ in range(cursor + 1, last + 1)]
        self.assertEqual([f["seq"] for f in replayed], list(range(cursor + 1, last + 1)))
        self.assertEqual(replayed[0], {"seq": cursor + 1, "collection": "r", "action": "create", "id": "3"})
        self.assertEqual(replayed[-1], {"seq": last, "collection": "r", "action": "later", "id": "3"})
        # Live delivery continues after the replay, without duplicates.
        [live] = await self.publish(notification("r", "live"))
        self.assertEqual(await recv_json(ws2), {"seq": live, "collection": "r", "action": "live"})

    async def test_resume_at_newest_seq_replays_nothing(self):
        [last] = await self.publish(notification("r", "x"))
        _, welcome = await self.connect()
        ws, w = await self.connect(f"since={last}&epoch={welcome['epoch']}")
        self.assertEqual(w, {"type": "welcome", "protocol": 1, "epoch": welcome["epoch"], "seq": last, "resumed": True})
        [live] = await self.publish(notification("r", "live"))
        self.assertEqual((await recv_json(ws))["seq"], live)

    async def test_resume_with_filter_replays_only_matching(self):
        _, welcome = await self.connect()
        since = welcome["seq"]
        seqs = await self.publish([
            notification("posts", id="1"),
            notification("users", id="1"),
            notification("posts", id="2"),
            notification("forums", id="9"),
            notification("forums", id="3"),
            notification("posts", "update", id="1"),
        ])
        ws, w = await self.connect(f"collections=posts,forums/3&since={since}&epoch={welcome['epoch']}")
        self.assertIs(w["resumed"], True)
        self.assertEqual(w["seq"], seqs[-1])
        [marker] = await self.publish(notification("posts", "marker"))
        got = await frames_before_marker(ws, marker)
        self.assertEqual([f["seq"] for f in got], [seqs[0], seqs[2], seqs[4], seqs[5]])

    async def test_resume_during_concurrent_publishing(self):
        batches, per_batch = 20, 100
        ws, welcome = await self.connect("collections=load")
        epoch = welcome["epoch"]
        first = await self.publish([notification("load", id=str(i)) for i in range(10)])
        got = [await recv_json(ws) for _ in range(4)]
        cursor = got[-1]["seq"]
        self.assertEqual(cursor, first[3])
        await ws.close()

        some_published = threading.Event()
        reconnecting = threading.Event()
        final: list[int] = []
        errors: list[BaseException] = []

        def publisher():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                for b in range(batches):
                    if b == 3:
                        some_published.set()
                        if not reconnecting.wait(TIMEOUT):
                            raise TimeoutError("the client did not start reconnecting")
                    seqs = publish(self.port, [notification("load", "tick", id=f"{b}.{i}")
                                               for i in range(per_batch)], conn=conn)
                    final[:] = [seqs[-1]]
            except BaseException as e:  # reported by the test thread
                errors.append(e)
                some_published.set()
            finally:
                conn.close()

        thread = threading.Thread(target=publisher, daemon=True)
        thread.start()
        try:
            self.assertTrue(await asyncio.to_thread(some_published.wait, TIMEOUT))
            reconnecting.set()
            ws2, w = await self.connect(f"collections=load&since={cursor}&epoch={epoch}")
            self.assertEqual((w["resumed"], w["epoch"]), (True, epoch))
            self.assertGreaterEqual(w["seq"], cursor + 6 + 3 * per_batch)

            expected = cursor + 1
            received = []
            while True:
                if not thread.is_alive() and (errors or expected > final[0]):
                    break
                frame = await recv_json(ws2)
                self.assertNotIn("type", frame, f"unexpected frame after {len(received)} notifications: {frame}")
                self.assertEqual(frame["seq"], expected, "gap or duplicate in the resumed stream")
                received.append(frame["seq"])
                expected += 1
        finally:
            reconnecting.set()
            await asyncio.to_thread(thread.join, TIMEOUT)
        self.assertFalse(errors, errors)
        self.assertEqual(received[-1], final[0])
        self.assertEqual(len(received), final[0] - cursor)
        self.assertEqual(final[0], first[-1] + batches * per_batch)


class ResyncTest(ServerTestCase):
    server_flags = ("--history", "10")

    async def assert_resync_then_live(self, query: str, collection: str = "rs"):
        current = (await self.publish(notification(collection, "now")))[0]
        ws, welcome = await self.connect(query)
        self.assertEqual(set(welcome), {"type", "protocol", "epoch", "seq", "resumed"})
        self.assertIs(welcome["resumed"], False)
        self.assertEqual(welcome["seq"], current)
        resync = await recv_json(ws)
        self.assertEqual(resync, {"type": "resync", "epoch": welcome["epoch"], "seq": current})
        [live] = await self.publish(notification(collection, "live"))
        self.assertEqual(await recv_json(ws), {"seq": live, "collection": collection, "action": "live"})
        return welcome

    async def test_unknown_epoch(self):
        await self.assert_resync_then_live("since=0&epoch=not-the-epoch")

    async def test_missing_epoch(self):
        _, w = await self.connect()
        await self.assert_resync_then_live(f"since={w['seq']}")

    async def test_since_older_than_history(self):
        _, w = await self.connect()
        start = w["seq"]
        await self.publish([notification("rs", id=str(i)) for i in range(30)])
        await self.assert_resync_then_live(f"since={start + 1}&epoch={w['epoch']}")

    async def test_since_in_the_future(self):
        _, w = await self.connect()
        await self.assert_resync_then_live(f"since={w['seq'] + 100}&epoch={w['epoch']}")

    async def test_since_at_edge_of_history_still_resumes(self):
        _, w = await self.connect()
        seqs = await self.publish([notification("edge", id=str(i)) for i in range(30)])
        # History keeps the last 10: seqs[-10:] are all there, so since=seqs[-11] resumes.
        since = seqs[-11]
        ws, welcome = await self.connect(f"since={since}&epoch={w['epoch']}")
        self.assertEqual(welcome, {"type": "welcome", "protocol": 1, "epoch": w["epoch"], "seq": seqs[-1],
                                   "resumed": True})
        self.assertEqual([(await recv_json(ws))["seq"] for _ in range(10)], seqs[-10:])
        # One further back is gone.
        ws2, welcome2 = await self.connect(f"since={since - 1}&epoch={w['epoch']}")
        self.assertIs(welcome2["resumed"], False)
        self.assertEqual(await recv_json(ws2), {"type": "resync", "epoch": w["epoch"], "seq": seqs[-1]})

    async def test_resync_with_filter_then_only_matching_live(self):
        ws, welcome = await self.connect("collections=wanted&since=1&epoch=bogus")
        self.assertIs(welcome["resumed"], False)
        self.assertEqual((await recv_json(ws))["type"], "resync")
        seqs = await self.publish([notification("unwanted"), notification("wanted")])
        self.assertEqual((await recv_json(ws))["seq"], seqs[1])


DATA = "d" * 5000
# More than the kernel can buffer for one connection, so that a client that
# does not read stalls its replay inside the server.
REPLAY_COUNT = (kernel_send_buffer_max() + (1 << 20)) // len(DATA) + 1


class ReplayOvertakenTest(ServerTestCase):
    server_flags = ("--history", str(REPLAY_COUNT), "--max-queue-bytes", "65536")

    async def publish_many(self, count):
        seqs = []
        for first in range(0, count, 100):
            seqs += await self.publish([notification("ev", data=DATA) for _ in range(min(100, count - first))])
        return seqs

    async def test_resync_when_history_evicts_a_stalled_replay(self):
        ws, welcome = await self.connect()
        await ws.close()
        epoch, since = welcome["epoch"], welcome["seq"]
        first = await self.publish_many(REPLAY_COUNT)

        # Resume over the whole history without reading: the replay stalls
        # once kernel buffers are full.
        stalled = self.raw(f"/ws?since={since}&epoch={epoch}", rcvbuf=4096)
        # Overwrite the whole history while the replay is stuck.
        second = await self.publish_many(REPLAY_COUNT)
        last = second[-1]

        def read_until_resync():
            w = stalled.recv_json()
            seqs = []
            while True:
                f = stalled.recv_json(timeout=2 * TIMEOUT)
                if f.get("type") == "resync":
                    return w, seqs, f
                seqs.append(f["seq"])

        w, replayed, resync = await asyncio.to_thread(read_until_resync)
        self.assertEqual(w, {"type": "welcome", "protocol": 1, "epoch": epoch, "seq": first[-1], "resumed": True})
        self.assertTrue(replayed)
        self.assertEqual(replayed, list(range(since + 1, since + 1 + len(replayed))), "gap in the replay")
        self.assertLess(replayed[-1], second[0])
        self.assertEqual(resync["epoch"], epoch)
        self.assertLessEqual(resync["seq"], last)
        self.assertGreater(resync["seq"], replayed[-1])

        # Live delivery continues after the resync's seq.
        [marker] = await self.publish(notification("ev", "marker"))

        def read_rest():
            out = []
            while True:
                f = stalled.recv_frame(timeout=2 * TIMEOUT)
                if f.opcode == 0x8:
                    return out, f.close_code()
                seq = f.json()["seq"]
                out.append(seq)
                if seq == marker:
                    return out, None

        rest, close_code = await asyncio.to_thread(read_rest)
        if resync["seq"] == last:
            # The usual course: the replay stalled before the history moved on.
            self.assertEqual((rest, close_code), ([marker], None))
        else:
            # The eviction caught the replay while publishing was still going
            # on: live notifications follow the resync, and the stalled client
            # may have been closed as a slow consumer meanwhile.
            self.assertEqual(rest, list(range(resync["seq"] + 1, resync["seq"] + 1 + len(rest))))
            self.assertIn(close_code, (None, 4008))


if __name__ == "__main__":
    unittest.main()
