# SPDX-License-Identifier: MIT
"""Welcome, notification shape and subscription filtering (docs/protocol.md,
"Server → client frames", "Notification" and "Opening")."""

import unittest

from notifier_testlib import (
    OP_TEXT,
    ServerTestCase,
    encode_frame,
    frames_before_marker,
    notification,
    recv_json,
    recv_text,
    no_seq,
)


class WelcomeAndShapeTest(ServerTestCase):

    async def test_welcome_is_first_frame(self):
        [last] = await self.publish(notification("shape", "before"))
        ws, welcome = await self.connect()
        self.assertEqual(set(welcome), {"type", "protocol", "epoch", "seq", "resumed"}, welcome)
        self.assertIs(type(welcome["protocol"]), int)
        self.assertEqual(welcome["protocol"], 1)
        self.assertIsInstance(welcome["epoch"], str)
        self.assertTrue(welcome["epoch"])
        self.assertIs(type(welcome["seq"]), int)
        self.assertEqual(welcome["seq"], last, "welcome carries the seq of the last dispatched notification")
        self.assertIs(welcome["resumed"], False)
        # Only notifications with seq > welcome.seq follow.
        [seq] = await self.publish(notification("shape", "after"))
        self.assertEqual(seq, last + 1)
        self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "shape", "action": "after"})

    async def test_same_epoch_for_every_connection(self):
        _, w1 = await self.connect()
        _, w2 = await self.connect("collections=x")
        self.assertEqual(w1["epoch"], w2["epoch"])

    async def test_notification_exact_shape(self):
        ws, _ = await self.connect()
        [seq] = await self.publish(notification("forums", "create", id="7", data={"name": "General"}))
        frame = await recv_json(ws)
        self.assertEqual(frame, {"seq": seq, "collection": "forums", "action": "create", "id": "7",
                                 "data": {"name": "General"}})
        self.assertIs(type(frame["seq"]), int)

    async def test_integer_id_arrives_as_string(self):
        ws, _ = await self.connect()
        seqs = await self.publish([
            notification("posts", "update", id=7),
            notification("posts", "update", id=-12),
            notification("posts", "update", id=18446744073709551615),
            notification("posts", "update", id=0),
        ])
        for seq, expected in zip(seqs, ["7", "-12", "18446744073709551615", "0"]):
            frame = await recv_json(ws)
            self.assertEqual(frame, {"seq": seq, "collection": "posts", "action": "update", "id": expected})

    async def test_id_and_data_omitted_when_absent(self):
        ws, _ = await self.connect()
        s1, s2, s3 = await self.publish([
            notification("users", "delete"),
            notification("users", "delete", id="3"),
            notification("users", "delete", data=[1, 2]),
        ])
        self.assertEqual(await recv_json(ws), {"seq": s1, "collection": "users", "action": "delete"})
        self.assertEqual(await recv_json(ws), {"seq": s2, "collection": "users", "action": "delete", "id": "3"})
        self.assertEqual(await recv_json(ws), {"seq": s3, "collection": "users", "action": "delete",
                                               "data": [1, 2]})

    async def test_data_arrives_as_the_publishers_bytes(self):
        # Written by hand, not by json.dumps: numbers beyond 2^64 and a
        # double's precision, forms a float parser would normalise, escapes
        # and key order must reach the client exactly as sent.
        values = [
            "123456789012345678901234567890",
            "340282366920938463463374607431768211457",
            "1.0",
            "1e2",
            "-0",
            "1E+400",
            "12345678901234567890.12345678901234567890",
            '{"z": 1.50, "a": [1.0, 2e0], "\\u00e9": "\\u00e9\\n"}',
        ]
        ws, _ = await self.connect()
        body = "[" + ",".join('{"collection":"exact","action":"set","data":%s}' % v for v in values) + "]"
        res = await self.post(raw=body)
        self.assertEqual(res.status, 202, res.body)
        for seq, value in zip(res.json()["seqs"], values):
            text = await recv_text(ws)
            self.assertEqual(text, '{"seq":%d,"collection":"exact","action":"set","data":%s}' % (seq, value))

    async def test_old_arrives_after_data_as_written(self):
        ws, _ = await self.connect()
        body = ('[{"collection":"posts","action":"update","id":1,"data":{"forum_id":8},"old":{"forum_id": 7.0}},'
                '{"collection":"posts","action":"delete","id":2,"old":{"forum_id":7}}]')
        res = await self.post(raw=body)
        self.assertEqual(res.status, 202, res.body)
        s1, s2 = res.json()["seqs"]
        self.assertEqual(await recv_text(ws), '{"seq":%d,"collection":"posts","action":"update","id":"1",'
                                              '"data":{"forum_id":8},"old":{"forum_id": 7.0}}' % s1)
        self.assertEqual(await recv_text(ws), '{"seq":%d,"collection":"posts","action":"delete","id":"2",'
                                              '"old":{"forum_id":7}}' % s2)
        refused = await self.post(raw='{"collection":"posts","action":"update","old":[1]}')
        self.assertEqual(refused.status, 400)
        self.assertEqual(refused.json()["error"], "invalid_notification")


        values = [None, False, True, 0, -1.5, 1e300, "", "h\u00e9llo \"q\" \\ \n \u2603 \U0001F600",
                  [], {}, {"a": [1, {"b": None}], "c": "d"}]
        ws, _ = await self.connect()
        body = [{"collection": "any", "action": "set", "data": v} for v in values]
        seqs = await self.publish(body)
        for seq, value in zip(seqs, values):
            frame = await recv_json(ws)
            self.assertEqual(frame["seq"], seq)
            self.assertIn("data", frame)
            self.assertEqual(frame["data"], value)

    async def test_string_id_escaping_and_utf8(self):
        ids = ["a\"b\\c", "\u00e9t\u00e9", "line\nbreak", "x" * 256, "\U0001F600"]
        ws, _ = await self.connect()
        seqs = await self.publish([notification("ids", "x", id=i) for i in ids])
        for seq, i in zip(seqs, ids):
            self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "ids", "action": "x", "id": i})

    async def test_batch_gets_consecutive_seqs_in_order(self):
        ws, welcome = await self.connect()
        seqs = await self.publish([notification("batch", "a", id=str(i)) for i in range(20)])
        self.assertEqual(seqs, list(range(welcome["seq"] + 1, welcome["seq"] + 21)))
        for i, seq in enumerate(seqs):
            self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "batch", "action": "a", "id": str(i)})

    async def test_every_recipient_gets_the_same_bytes(self):
        ws1, _ = await self.connect()
        ws2, _ = await self.connect("collections=same")
        await self.publish(notification("same", "x", id=5, data={"k": [1, 2.5, "z"]}))
        self.assertEqual(await recv_text(ws1), await recv_text(ws2))

    async def test_no_extension_or_subprotocol_negotiated(self):
        # The library offers permessage-deflate and a subprotocol; neither may be accepted.
        ws, _ = await self.connect(compression="deflate", subprotocols=["chat"])
        headers = ws.response_headers
        self.assertNotIn("Sec-WebSocket-Extensions", headers)
        self.assertNotIn("Sec-WebSocket-Protocol", headers)
        self.assertIsNone(ws.subprotocol)
        [seq] = await self.publish(notification("plain", "x", data="y" * 2000))
        self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_frames_sent_with_the_upgrade_request_are_handled(self):
        raw = self.raw(extra_bytes=encode_frame(OP_TEXT, b'{"type":"ping"}'))
        self.assertEqual(raw.recv_json()["type"], "welcome")
        self.assertEqual(raw.recv_json(), {"type": "pong"})


class FilteringTest(ServerTestCase):

    async def test_collections_at_connect(self):
        ws, _ = await self.connect("collections=forums,posts/7")
        seqs = await self.publish([
            notification("forums", "create", id="1"),
            notification("posts", "create", id="8"),
            notification("forums", "update"),
            notification("users", "create", id="7"),
            notification("posts", "update", id="7"),
            notification("posts", "update"),            # no id: not posts/7
            notification("posts", "delete", id=7),      # integer id matches posts/7
            notification("forumsX", "create"),
            notification("forums", "marker"),
        ])
        got = await frames_before_marker(ws, seqs[-1])
        self.assertEqual([f["seq"] for f in got], [seqs[0], seqs[2], seqs[4], seqs[6]], got)

    async def test_implicit_star_without_collections(self):
        ws, _ = await self.connect()
        seqs = await self.publish([notification("a"), notification("b", id="1"), notification("zz:z.-_9")])
        for seq in seqs:
            self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_explicit_star(self):
        ws, _ = await self.connect("collections=*")
        seqs = await self.publish([notification("a"), notification("b", id="1")])
        for seq in seqs:
            self.assertEqual((await recv_json(ws))["seq"], seq)

    async def test_overlapping_subscriptions_deliver_once(self):
        ws, _ = await self.connect("collections=posts,posts/7,*")
        seqs = await self.publish([notification("posts", id="7"), notification("posts", "marker")])
        got = await frames_before_marker(ws, seqs[1])
        self.assertEqual(got, [{"seq": seqs[0], "collection": "posts", "action": "create", "id": "7"}])

    async def test_id_containing_slash(self):
        ws, _ = await self.connect("collections=files/a/b,files/c")
        seqs = await self.publish([notification("files", id="a/b"), notification("files", id="a"),
                                   notification("files", id="c"), notification("files", "marker", id="c")])
        got = await frames_before_marker(ws, seqs[-1])
        self.assertEqual([f["seq"] for f in got], [seqs[0], seqs[2]])

    async def test_percent_encoded_ids_in_query(self):
        ws, _ = await self.connect("collections=posts/caf%C3%A9,posts/a%20b,posts/x%2Fy")
        seqs = await self.publish([notification("posts", id="caf\u00e9"), notification("posts", id="a b"),
                                   notification("posts", id="x/y"), notification("posts", id="cafe"),
                                   notification("posts", "marker", id="a b")])
        got = await frames_before_marker(ws, seqs[-1])
        self.assertEqual([f["seq"] for f in got], seqs[:3])

    async def test_subscribe_replaces_implicit_star(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"subscribe","collections":["posts","forums/3","Alpha","beta"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed",
                                               "collections": ["Alpha", "beta", "forums/3", "posts"]})
        seqs = await self.publish([
            notification("users"),            # no longer delivered: the implicit * is gone
            notification("forums", id="4"),
            notification("forums", id="3"),
            notification("posts", id="9"),
            notification("posts", "marker"),
        ])
        got = await frames_before_marker(ws, seqs[-1])
        self.assertEqual([f["seq"] for f in got], [seqs[2], seqs[3]])

    async def test_subscribe_unsubscribe_answers_full_sorted_set(self):
        ws, _ = await self.connect("collections=posts")
        await ws.send('{"type":"subscribe","collections":["forums/3","*","alpha","posts"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed",
                                               "collections": ["*", "alpha", "forums/3", "posts"]})
        await ws.send('{"type":"unsubscribe","collections":["*","nonexistent","posts/1"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["alpha", "forums/3", "posts"]})
        await ws.send('{"type":"subscribe","collections":[]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["alpha", "forums/3", "posts"]})
        seqs = await self.publish([notification("users"), notification("alpha"), notification("posts", "marker")])
        got = await frames_before_marker(ws, seqs[-1])
        self.assertEqual([f["seq"] for f in got], [seqs[1]])

    async def test_unsubscribe_everything_receives_nothing(self):
        ws, _ = await self.connect("collections=posts,forums/3")
        await ws.send('{"type":"unsubscribe","collections":["posts","forums/3"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": []})
        # A second connection sees the same notifications and a marker: once
        # it has the marker, everything before it has been dispatched, so
        # anything sent to the first connection precedes the answer to a ping.
        probe, _ = await self.connect("collections=posts,forums,other")
        seqs = await self.publish([notification("posts"), notification("forums", id="3"), notification("other")])
        self.assertEqual([(await recv_json(probe))["seq"] for _ in seqs], seqs)
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})
        # Subscribing again works as usual.
        await ws.send('{"type":"subscribe","collections":["posts"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["posts"]})
        [seq] = await self.publish(notification("posts", "again"))
        self.assertEqual(await recv_json(ws), {"seq": seq, "collection": "posts", "action": "again"})

    async def test_unsubscribe_implicit_star_receives_nothing(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"unsubscribe","collections":["*"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": []})
        # A second connection proves the notifications were dispatched.
        probe, _ = await self.connect("collections=other,marker")
        seqs = await self.publish([notification("other"), notification("marker")])
        self.assertEqual([(await recv_json(probe))["seq"] for _ in seqs], seqs)
        await ws.send('{"type":"ping"}')
        self.assertEqual(await recv_json(ws), {"type": "pong"})

    async def test_first_subscribe_replaces_implicit_star_after_ignored_unsubscribe(self):
        ws, _ = await self.connect()
        await ws.send('{"type":"unsubscribe","collections":["posts"]}')
        await recv_json(ws)
        await ws.send('{"type":"subscribe","collections":["forums"]}')
        self.assertEqual(no_seq(await recv_json(ws)), {"type": "subscribed", "collections": ["forums"]})


class HandshakeVariantsTest(ServerTestCase):

    async def test_connection_header_with_several_tokens(self):
        # As sent by Firefox.
        raw = self.raw(headers={"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"})
        self.assertEqual(raw.recv_json()["type"], "welcome")

    async def test_replayed_bytes_equal_live_bytes(self):
        ws, welcome = await self.connect("collections=bytes")
        [seq] = await self.publish(notification("bytes", "x", id=9, data={"a": [1, "b", None]}))
        live = await recv_text(ws)
        ws2, _ = await self.connect(f"collections=bytes&since={seq - 1}&epoch={welcome['epoch']}")
        self.assertEqual(await recv_text(ws2), live)


if __name__ == "__main__":
    unittest.main()
