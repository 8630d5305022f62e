# SPDX-License-Identifier: MIT
"""Slow consumers are closed with 4008 without slowing anyone else
(docs/protocol.md, "Close codes" and "The delivery guarantee")."""

import asyncio
import unittest

from notifier_testlib import (
    OP_TEXT,
    ConnectionEnded,
    RawWebSocket,
    ServerTestCase,
    kernel_send_buffer_max,
    notification,
    recv_json,
)

QUEUE_BYTES = 65536
DATA_BYTES = 5000
RCVBUF = 4096


# Enough to overflow kernel buffers plus the server's queue with a margin:
# about 2 MB does not suffice on Linux defaults (the server's send buffer
# alone takes 4 MiB), so the count follows the kernel's limit.
COUNT = (kernel_send_buffer_max() + 2 * RCVBUF + 2 * QUEUE_BYTES + (256 << 10)) // DATA_BYTES + 1
# Notifications per POST, and the window the reading client must have
# received before the next POST: its queue never holds more than one window
# (about 40 KB), well under --max-queue-bytes.
WINDOW = 8


async def publish_past_a_stalled_client(case: unittest.TestCase, reader, start: int, publish) -> None:
    """Publishes COUNT notifications of DATA_BYTES in windows through
    `publish` (an async call taking a batch, returning its seqs): the
    reading client gets each, in order, before the next window goes out."""
    payload = "x" * DATA_BYTES
    received = []
    for first in range(0, COUNT, WINDOW):
        batch = [notification("big", "put", id=str(i), data={"i": i, "pad": payload})
                 for i in range(first, min(first + WINDOW, COUNT))]
        seqs = await publish(batch)
        for seq, n in zip(seqs, batch):
            case.assertEqual(await recv_json(reader), {"seq": seq, **n})
            received.append(seq)
    case.assertEqual(received, list(range(start + 1, start + COUNT + 1)))


async def expect_closed_as_slow(case: unittest.TestCase, stalled: RawWebSocket, start: int) -> None:
    """Reads the stalled connection at last: the welcome, a gap-free prefix
    of the notifications, and a close frame 4008; answering the close ends
    the connection."""
    def read_stalled():
        case.assertEqual(stalled.recv_json()["type"], "welcome")
        try:
            return stalled.expect_close()
        except ConnectionEnded as e:
            # E.g. frames dropped from under a write the server had already
            # started: the next write fails.
            raise AssertionError(f"the connection ended without a close frame ({e}), mid-frame "
                                 f"with {len(stalled.buf)} bytes of it read") from None

    code, reason, frames = await asyncio.to_thread(read_stalled)
    case.assertEqual((code, reason), (4008, "slow consumer"))
    case.assertTrue(all(f.opcode == OP_TEXT for f in frames), [f.opcode for f in frames])
    seqs = [f.json()["seq"] for f in frames]
    case.assertEqual(seqs, list(range(start + 1, start + 1 + len(seqs))), "stalled client saw a gap")
    case.assertLess(len(seqs), COUNT)
    stalled.send_close(4008)
    case.assertEqual(await asyncio.to_thread(stalled.expect_eof), [])


async def open_stalled_and_reader(case):
    """A raw client with a 4 KiB receive buffer that never reads, and a
    reading client, both on "big"; the seq they start from."""
    stalled = case.raw("/ws?collections=big", rcvbuf=RCVBUF)
    reader, welcome = await case.connect("collections=big")
    return stalled, reader, welcome["seq"]


class SlowConsumerTest(ServerTestCase):
    # The close timeout is long so that the close frame is still queued when
    # the stalled client finally reads (with the default, a client stalled
    # for more than 5 s finds only EOF after its data).
    server_flags = ("--max-queue-bytes", str(QUEUE_BYTES), "--close-timeout", "20")

    async def test_stalled_client_closed_4008_reader_gets_everything(self):
        stalled, reader, start = await open_stalled_and_reader(self)
        await publish_past_a_stalled_client(self, reader, start, self.publish)
        await expect_closed_as_slow(self, stalled, start)

        # The reader is still connected and served.
        [seq] = await self.publish(notification("big", "after"))
        self.assertEqual((await recv_json(reader))["seq"], seq)
        await self.assert_serves()

    async def test_resume_after_slow_consumer_close_loses_nothing(self):
        stalled = self.raw("/ws?collections=bulk", rcvbuf=RCVBUF)
        reader, welcome = await self.connect("collections=bulk")
        payload = "y" * DATA_BYTES
        all_seqs = []
        for first in range(0, COUNT, WINDOW):
            seqs = await self.publish([notification("bulk", data=payload) for _ in range(WINDOW)])
            for seq in seqs:
                self.assertEqual((await recv_json(reader))["seq"], seq)
            all_seqs += seqs

        def read_stalled():
            stalled.recv_json()
            return stalled.expect_close()

        code, _, frames = await asyncio.to_thread(read_stalled)
        self.assertEqual(code, 4008)
        stalled.close_socket()
        cursor = frames[-1].json()["seq"] if frames else welcome["seq"]
        # Reconnect from the cursor: the rest comes from the history.
        ws, w = await self.connect(f"collections=bulk&since={cursor}&epoch={welcome['epoch']}",
                                   max_queue=None)
        self.assertIs(w["resumed"], True)
        got = []
        while not got or got[-1] < all_seqs[-1]:
            got.append((await recv_json(ws))["seq"])
        self.assertEqual(got, [s for s in all_seqs if s > cursor])


class OversizedNotificationTest(ServerTestCase):
    """Default limits: a POST body may be 1 MiB, the outbound queue 1 MiB."""

    async def test_accepted_notification_reaches_an_idle_reader(self):
        ws, _ = await self.connect("collections=huge")
        base = '{"collection":"huge","action":"create","data":""}'
        body = base[:-2] + "h" * ((1 << 20) - len(base)) + base[-2:]
        res = await self.post(raw=body)
        if res.status == 413:
            return  # refusing what cannot be delivered is as good
        self.assertEqual(res.status, 202, res.body)
        [seq] = res.json()["seqs"]
        frame = await recv_json(ws)
        self.assertEqual((frame["seq"], len(frame["data"])), (seq, (1 << 20) - len(base)))


if __name__ == "__main__":
    unittest.main()
