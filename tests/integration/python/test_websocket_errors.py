# SPDX-License-Identifier: MIT
"""Bad input over WebSocket: error frames, close codes and RFC 6455 framing
(docs/protocol.md, "Client → server frames" and "Close codes")."""

import asyncio
import json
import struct
import unittest

from notifier_testlib import (
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ServerTestCase,
    encode_frame,
    notification,
    recv_json,
    recv_text,
    wait_closed,
    no_seq,
)

MAX_SUBSCRIPTIONS = 4



async def send_ping_of_size(ws, size: int) -> None:
    """A ping message padded with spaces to exactly `size` bytes."""
    text = '{"type":"ping"}'
    await ws.send(text + " " * (size - len(text)))

class ErrorFrameTest(ServerTestCase):
    """Refused client frames answer an error frame; the connection stays open."""

    server_flags = ("--max-subscriptions", str(MAX_SUBSCRIPTIONS))

    async def assert_error_then_alive(self, ws, sent: str, code: str):
        await ws.send(sent)
        self.assert_error_frame(await recv_json(ws), code)
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})

    async def test_invalid_json(self):
        ws, _ = await self.connect()
        for text in ['{"type":"ping"', "not json", "", '{"type":"ping"} x', "\u00e9"]:
            with self.subTest(text=text):
                await self.assert_error_then_alive(ws, text, "invalid_json")

    async def test_json_not_an_object(self):
        ws, _ = await self.connect()
        for text in ["[]", '"ping"', "42", "null", '[{"type":"ping"}]']:
            with self.subTest(text=text):
                await self.assert_error_then_alive(ws, text, "invalid_json")

    async def test_invalid_message(self):
        ws, _ = await self.connect()
        for text in ['{}', '{"type":1}', '{"type":null}', '{"type":"subscribe"}',
                     '{"type":"subscribe","collections":"posts"}', '{"type":"unsubscribe","collections":[1]}',
                     '{"type":"subscribe","collections":[["posts"]]}', '{"type":"subscribe","collections":null}']:
            with self.subTest(text=text):
                await self.assert_error_then_alive(ws, text, "invalid_message")

    async def test_unknown_type(self):
        ws, _ = await self.connect()
        for text in ['{"type":"publish"}', '{"type":"Ping"}', '{"type":""}']:
            with self.subTest(text=text):
                await self.assert_error_then_alive(ws, text, "unknown_type")

    async def test_unknown_field(self):
        ws, _ = await self.connect()
        for text in ['{"type":"ping","id":1}', '{"type":"subscribe","collections":["a"],"since":3}',
                     '{"type":"unsubscribe","collections":[],"x":null}']:
            with self.subTest(text=text):
                await self.assert_error_then_alive(ws, text, "unknown_field")
        # None of those changed the (implicit) subscription.
        [seq] = await self.publish(notification("anything"))
        self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_bad_entry_refuses_whole_frame(self):
        ws, _ = await self.connect("collections=forums")
        bad_entries = ["bad name", "", "posts/", "/7", "a" * 129, "posts/" + "x" * 257, "**", "caf\u00e9"]
        for entry in bad_entries:
            with self.subTest(entry=entry):
                await ws.send(json.dumps({"type": "subscribe", "collections": ["posts", entry]}))
                self.assert_error_frame(await recv_json(ws), "invalid_name")
        await ws.send(json.dumps({"type": "unsubscribe", "collections": ["forums", "bad name"]}))
        self.assert_error_frame(await recv_json(ws), "invalid_name")
        # The set is unchanged: still exactly ["forums"], "posts" never added.
        await ws.send('{"type":"unsubscribe","collections":["unrelated"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})
        seqs = await self.publish([notification("posts"), notification("forums", "marker")])
        self.assertEqual((await recv_json(ws))["seq"], seqs[1])

    async def test_too_many_subscriptions(self):
        ws, _ = await self.connect("collections=a,b,c")
        await ws.send('{"type":"subscribe","collections":["d","e"]}')
        self.assert_error_frame(await recv_json(ws), "too_many_subscriptions")
        await ws.send('{"type":"subscribe","collections":["d","a"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["a", "b", "c", "d"]})

    async def test_json_ping(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})
        await ws.send(' { "type" : "ping" } ')
        self.assertEqual(await recv_json(ws), {"type": "pong"})

    async def test_websocket_ping_answered_with_same_payload(self):
        ws, _ = await self.connect()
        waiter = await ws.ping(b"payload-\x00\xff")
        await asyncio.wait_for(waiter, 5)   # the library checks that the payload matches
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        for payload in [b"", b"x", bytes(range(125))]:
            raw.send_frame(OP_PING, payload)
            f = raw.recv_frame()
            self.assertEqual((f.fin, f.opcode, f.payload, f.masked), (True, OP_PONG, payload, False))

    async def test_client_close_is_answered(self):
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        raw.send_close(1000, b"bye")
        code, _, frames = raw.expect_close()
        self.assertEqual((code, frames), (1000, []))
        self.assertEqual(raw.expect_eof(), [])

    async def test_message_of_exactly_the_limit_is_accepted(self):
        ws, _ = await self.connect()
        await send_ping_of_size(ws, 65536)
        self.assertEqual(await recv_json(ws), {"type": "pong"})


class CloseCodeTest(ServerTestCase):
    """Messages that end the connection with a documented close code."""

    async def assert_closed(self, ws, code: int, reason: str):
        self.assertEqual(await wait_closed(ws), (code, reason))
        await self.assert_serves()

    async def test_binary_frame_1003(self):
        ws, _ = await self.connect()
        await ws.send(b'{"type":"ping"}')
        await self.assert_closed(ws, 1003, "binary frames not supported")

    async def test_message_above_64k_1009(self):
        ws, _ = await self.connect()
        text = '{"type":"ping"}'
        await ws.send(text + " " * (65537 - len(text)))
        await self.assert_closed(ws, 1009, "message too big")

    async def test_fragmented_message_above_limit_1009(self):
        # The limit applies after reassembly.
        raw = self.raw()
        raw.recv_json()
        raw.send_frame(OP_TEXT, b" " * 40000, fin=False)
        raw.send_frame(OP_CONT, b" " * 40000, fin=True)
        code, reason, _ = raw.expect_close()
        self.assertEqual((code, reason), (1009, "message too big"))
        raw.expect_eof()
        await self.assert_serves()

    async def assert_raw_close(self, frames: bytes, code: int, reason: str | None = None):
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        raw.send_raw(frames)
        got_code, got_reason, before = raw.expect_close()
        self.assertEqual(got_code, code, f"reason {got_reason!r}")
        if reason is not None:
            self.assertEqual(got_reason, reason)
        self.assertEqual([f.opcode for f in before], [])
        # The server does not wait for an answer from a broken peer.
        self.assertEqual(raw.expect_eof(), [])
        await self.assert_serves()

    async def test_invalid_utf8_text_1007(self):
        for payload in [b'{"type":"\xff"}', b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"abc\xe2\x82"]:
            with self.subTest(payload=payload):
                await self.assert_raw_close(encode_frame(OP_TEXT, payload), 1007, "invalid utf-8")

    async def test_invalid_utf8_split_across_fragments_1007(self):
        # "é" split between two fragments is valid; a truncated sequence at the end is not.
        raw = self.raw()
        raw.recv_json()
        raw.send_frame(OP_TEXT, b'{"type":"subscribe","collections":["caf\xc3', fin=False)
        raw.send_frame(OP_CONT, b'\xa9"]}', fin=True)
        self.assertEqual(raw.recv_json()["code"], "invalid_name")
        await self.assert_raw_close(encode_frame(OP_TEXT, b"ab\xc3", fin=False) + encode_frame(OP_CONT, b"", fin=True),
                                    1007, "invalid utf-8")

    async def test_unmasked_frame_1002(self):
        await self.assert_raw_close(encode_frame(OP_TEXT, b'{"type":"ping"}', mask=False), 1002)

    async def test_reserved_bits_1002(self):
        for rsv in (4, 2, 1):
            with self.subTest(rsv=rsv):
                await self.assert_raw_close(encode_frame(OP_TEXT, b'{"type":"ping"}', rsv=rsv), 1002)

    async def test_unknown_opcode_1002(self):
        for op in (0x3, 0x7, 0xB, 0xF):
            with self.subTest(opcode=op):
                await self.assert_raw_close(encode_frame(op, b"x"), 1002)

    async def test_ping_with_126_byte_payload_1002(self):
        await self.assert_raw_close(encode_frame(OP_PING, b"p" * 126), 1002)

    async def test_fragmented_ping_1002(self):
        await self.assert_raw_close(encode_frame(OP_PING, b"part", fin=False), 1002)

    async def test_continuation_without_start_1002(self):
        await self.assert_raw_close(encode_frame(OP_CONT, b'{"type":"ping"}', fin=True), 1002)

    async def test_new_text_during_fragmented_message_1002(self):
        await self.assert_raw_close(encode_frame(OP_TEXT, b'{"type":', fin=False) +
                                    encode_frame(OP_TEXT, b'{"type":"ping"}'), 1002)

    async def test_invalid_close_payloads(self):
        cases = [
            (b"\x03", 1002),                               # one byte
            (struct.pack("!H", 1005), 1002),               # must not appear on the wire
            (struct.pack("!H", 999), 1002),
            (struct.pack("!H", 5000), 1002),
            (struct.pack("!H", 1000) + b"\xff\xfe", 1007),  # reason not UTF-8
        ]
        for payload, code in cases:
            with self.subTest(payload=payload):
                await self.assert_raw_close(encode_frame(OP_CLOSE, payload), code)

    async def test_fragmented_text_reassembled_with_ping_between(self):
        raw = self.raw()
        self.assertEqual(raw.recv_json()["type"], "welcome")
        raw.send_frame(OP_TEXT, b'{"type":"subsc', fin=False)
        raw.send_frame(OP_CONT, b'ribe","collect', fin=False)
        raw.send_frame(OP_PING, b"between")
        pong = raw.recv_frame()
        self.assertEqual((pong.opcode, pong.payload), (OP_PONG, b"between"))
        raw.send_frame(OP_CONT, b'ions":["posts"]}', fin=True)
        self.assertEqual(no_seq(raw.recv_json()), {"type": "subscribed", "collections": ["posts"]})
        [seq] = await self.publish(notification("posts"))
        self.assertEqual(raw.recv_json()["seq"], seq)

    async def test_frames_split_across_tcp_writes(self):
        raw = self.raw()
        raw.recv_json()
        data = encode_frame(OP_TEXT, b'{"type":"ping"}') + encode_frame(OP_TEXT, b" " * 300 + b'{"type":"ping"}')
        for i in range(len(data)):
            raw.send_raw(data[i:i + 1])
        self.assertEqual(raw.recv_json(), {"type": "pong"})
        self.assertEqual(raw.recv_json(), {"type": "pong"})


class SmallMessageLimitTest(ServerTestCase):
    server_flags = ("--max-message-bytes", "1024")

    async def test_2k_message_1009(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"subscribe","collections":[' + ",".join(['"abcdefghij"'] * 150) + "]}")
        self.assertEqual(await wait_closed(ws), (1009, "message too big"))
        await self.assert_serves()

    async def test_1k_message_accepted(self):
        ws, _ = await self.connect()
        await send_ping_of_size(ws, 1024)
        self.assertEqual(await recv_json(ws), {"type": "pong"})


class RequestRefTest(ServerTestCase):
    """A frame's "ref" comes back in its answer (docs/protocol.md, "Request
    references")."""

    async def test_answers_echo_the_ref(self):
        ws, _ = await self.connect("collections=forums")
        await ws.send('{"type":"ping","ref":1}')
        self.assertEqual(await recv_json(ws), {"type": "pong", "ref": 1})
        await ws.send('{"ref":"s-1","type":"subscribe","collections":["posts"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums", "posts"], "ref": "s-1"})
        await ws.send('{"type":"unsubscribe","collections":["forums"],"ref":-3}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["posts"], "ref": -3})
        for ref in ["", "\u00e9" * 32, "q\"\\\n", 18446744073709551615, -9223372036854775808, 0]:
            with self.subTest(ref=ref):
                await ws.send(json.dumps({"type": "ping", "ref": ref}))
                self.assertEqual(await recv_json(ws), {"type": "pong", "ref": ref})

    async def test_frames_without_ref_are_answered_without(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_text(ws), '{"type":"pong"}')
        await ws.send('{"type":"subscribe","collections":["a"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["a"]})

    async def test_refusals_echo_the_ref(self):
        ws, _ = await self.connect("collections=forums")
        cases = {
            '{"type":"publish","ref":"r1"}': ("unknown_type", "r1"),
            '{"type":"ping","extra":1,"ref":2}': ("unknown_field", 2),
            '{"type":"subscribe","collections":["ok","not ok!"],"ref":3}': ("invalid_name", 3),
            '{"type":"subscribe","ref":4}': ("invalid_message", 4),
            '{"ref":5}': ("invalid_message", 5),
            '{"type":"auth","token":"t","ref":6}': ("auth_disabled", 6),
        }
        for text, (code, ref) in cases.items():
            with self.subTest(text=text):
                await ws.send(text)
                frame = await recv_json(ws)
                self.assertEqual(set(frame), {"type", "code", "message", "ref"}, frame)
                self.assertEqual((frame["type"], frame["code"], frame["ref"]), ("error", code, ref))
        # None of them changed the set.
        await ws.send('{"type":"unsubscribe","collections":[]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})

    async def test_invalid_ref_is_refused_and_not_echoed(self):
        ws, _ = await self.connect("collections=forums")
        for ref in ["r" * 65, "\u00e9" * 33, 1.5, 1e2, 18446744073709551616, None, True, [1], {"a": 1}]:
            with self.subTest(ref=ref):
                await ws.send(json.dumps({"type": "subscribe", "collections": ["posts"], "ref": ref}))
                self.assert_error_frame(await recv_json(ws), "invalid_message")
        await ws.send('{"type":"ping","ref":"alive"}')
        self.assertEqual(await recv_json(ws), {"type": "pong", "ref": "alive"})
        # The refused subscribes added nothing.
        await ws.send('{"type":"unsubscribe","collections":[]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})


class LargeAnswerTest(ServerTestCase):
    """A single frame above --max-queue-bytes still goes to a client with
    nothing else queued, whatever its kind (docs/protocol.md, close 4008)."""

    server_flags = ("--max-queue-bytes", "1024", "--max-subscriptions", "5000")

    async def test_subscribed_answer_above_the_queue_limit_is_sent(self):
        ws, _ = await self.connect("collections=")
        names = sorted(f"collection_{i:04d}" for i in range(600))
        await ws.send(json.dumps({"type": "subscribe", "collections": names}))
        text = await recv_text(ws)
        self.assertGreater(len(text), 8 * 1024)  # well above the limit
        self.assertEqual(no_seq(json.loads(text)), {"type": "subscribed", "collections": names})
        # The same again for unsubscribe's answer, then notifications: the
        # connection stays open.
        await ws.send('{"type":"unsubscribe","collections":["unknown"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": names})
        [seq] = await self.publish(notification("collection_0599"))
        self.assertEqual((await recv_json(ws))["seq"], seq)


if __name__ == "__main__":
    unittest.main()
