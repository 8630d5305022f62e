# SPDX-License-Identifier: MIT
"""Filtered subscriptions with python3-websockets (docs/protocol.md,
"Filtered subscriptions" and "From when: `seq`"): the grammar and canonical
form, the over-delivery rule on data and old, replay of only the matching
history, invalid entries, the seq of `subscribed`, and filtered tokens."""

import asyncio
import urllib.parse

from notifier_testlib import (
    NotifierServer,
    ServerTestCase,
    frames_before_marker,
    notification,
    recv_json,
)
from test_security import SecurityTestCase

F7 = "posts[forum_id=7]"


def q(*entries: str) -> str:
    """A percent-encoded `collections` query, as browsers write it."""
    return "collections=" + ",".join(urllib.parse.quote(e, safe="") for e in entries)


def post(action: str, pid: int, data=None, old=None, collection: str = "posts") -> dict:
    n = notification(collection, action, id=pid, data=data)
    if old is not None:
        n["old"] = old
    return n


# What a subscriber of forum 7 must receive (True) or not (False): every
# rule of the over-delivery table, in one batch.
BATCH = [
    (post("create", 1, {"forum_id": 7, "title": "in"}), True),
    (post("create", 2, {"forum_id": 8, "title": "elsewhere"}), False),
    (post("update", 1, {"forum_id": 8}, {"forum_id": 7}), True),        # moved out of 7
    (post("update", 3, {"forum_id": 7}, {"forum_id": 8}), True),        # moved into 7
    (post("update", 2, {"forum_id": 9}, {"forum_id": 8}), False),       # moved between others
    (post("delete", 4, None, {"forum_id": 7}), True),                   # delete with old
    (post("delete", 5, None, {"forum_id": 8}), False),
    (post("delete", 6), True),                                          # neither data nor old
    (post("update", 7, {"title": "no forum_id"}), True),                # field unknown
    (post("update", 8, {"forum_id": 7.0}), True),                       # equal by value
    (post("update", 9, {"forum_id": "7"}), False),                      # no coercion
    (post("update", 10, [7]), True),                                    # data not an object
    (post("update", 11, {"forum_id": 8}), False),                       # moved out without old: unseen
    (post("create", 12, {"forum_id": 7}, collection="forums"), False),  # another collection
]


class FilteredSubscriptionTest(ServerTestCase):

    async def publish_batch(self) -> list[int]:
        seqs = await self.publish([n for n, _ in BATCH])
        # No forum_id: it reaches every filter of posts (the field is unknown).
        [marker] = await self.publish(notification("posts", "marker", id="m"))
        self.marker = marker
        return seqs

    def expected(self, seqs: list[int]) -> list[int]:
        return [s for s, (_, wanted) in zip(seqs, BATCH) if wanted]

    async def test_the_over_delivery_rule_live(self):
        ws, _ = await self.connect(q(F7))
        other, _ = await self.connect(q("posts[forum_id=8]"))
        seqs = await self.publish_batch()
        got = await frames_before_marker(ws, self.marker)
        self.assertEqual([f["seq"] for f in got], self.expected(seqs))
        # The notification arrives whole, data and old as published.
        moved = next(f for f in got if f["seq"] == seqs[2])
        self.assertEqual(moved, {"seq": seqs[2], "collection": "posts", "action": "update", "id": "1",
                                 "data": {"forum_id": 8}, "old": {"forum_id": 7}})
        # Forum 8's subscriber: 2, the move out of 7 into 8, the move into 7
        # from 8, the move from 8 to 9, the delete in 8, and the unknowns.
        got8 = await frames_before_marker(other, self.marker)
        self.assertEqual([f["id"] for f in got8], ["2", "1", "3", "2", "5", "6", "7", "10", "11"])

    async def test_resume_replays_only_the_matching_history(self):
        _, welcome = await self.connect(q(F7))
        seqs = await self.publish_batch()
        ws, w = await self.connect(q(F7) + f"&since={welcome['seq']}&epoch={welcome['epoch']}")
        self.assertTrue(w["resumed"], w)
        got = await frames_before_marker(ws, self.marker)
        self.assertEqual([f["seq"] for f in got], self.expected(seqs))

    async def test_a_resume_with_publishing_going_on_has_no_gap_and_no_duplicate(self):
        _, welcome = await self.connect(q(F7))
        rounds = 30
        published: list[int] = []

        async def publisher():
            for i in range(rounds):
                published.extend(await self.publish([
                    post("update", i, {"forum_id": 7 + i % 2}, {"forum_id": 7 + (i + 1) % 2}),
                    post("create", i, {"forum_id": 9}),
                ]))

        task = asyncio.create_task(publisher())
        ws, w = await self.connect(q(F7) + f"&since={welcome['seq']}&epoch={welcome['epoch']}")
        await task
        [marker] = await self.publish(notification("posts", "marker", id="m", data={"forum_id": 7}))
        got = [f["seq"] for f in await frames_before_marker(ws, marker)]
        # Every move between 7 and 8 reaches forum 7 (as old or data); forum 9 never.
        self.assertEqual(got, published[0::2])

    async def test_subscribe_frames_canonical_form_and_seq(self):
        ws, _ = await self.connect("collections=forums")
        # Received, so dispatched on this connection's shard before the
        # subscribe: not sent again, and seq says so.
        [before] = await self.publish([post("create", 1, {"forum_id": 7}, collection="forums")])
        self.assertEqual((await recv_json(ws))["seq"], before)
        await ws.send('{"type":"subscribe","collections":["posts[pinned=true,forum_id=7.0]",'
                      '"posts[forum_id=7]","forums"],"ref":1}')
        sub = await recv_json(ws)
        self.assertEqual(sub, {"type": "subscribed", "collections": [
            "forums", "posts[forum_id=7,pinned=true]", "posts[forum_id=7]"], "seq": before, "ref": 1})
        [after] = await self.publish(post("create", 2, {"forum_id": 7, "pinned": True}))
        self.assertEqual((await recv_json(ws))["seq"], after)  # once, though two filters match
        # unsubscribe compares canonical forms: another spelling removes it.
        await ws.send('{"type":"unsubscribe","collections":["posts[forum_id=7e0,pinned=true]"],"ref":2}')
        self.assertEqual(await recv_json(ws), {"type": "subscribed", "collections": ["forums", "posts[forum_id=7]"],
                                               "seq": after, "ref": 2})
        [s3, s4] = await self.publish([post("create", 3, {"forum_id": 7}), post("create", 4, {"forum_id": 8})])
        self.assertEqual((await recv_json(ws))["seq"], s3)
        [marker] = await self.publish(notification("forums", "marker"))
        self.assertEqual(await frames_before_marker(ws, marker), [])

    async def test_strings_nested_paths_and_literals(self):
        entries = ['posts[author.id="ana",state="open"]', "posts[pinned=true,deleted=null]", "posts[score=-2.5]"]
        ws, _ = await self.connect(q(*entries))

        def row(author, pinned=False, deleted=None, score=0):
            return {"author": author, "state": "open", "pinned": pinned, "deleted": deleted, "score": score}

        seqs = await self.publish([
            post("create", 1, row({"id": "ana"})),                # the first filter
            post("create", 2, row({"id": "bo"})),
            post("create", 3, row("ana")),                        # author.id does not go through an object: holds
            post("create", 4, row({"id": "bo"}, pinned=True)),    # the second
            post("create", 5, row({"id": "bo"}, pinned=True, deleted=False)),
            post("create", 6, row({"id": "bo"}, score=-2.50)),    # the third
        ])
        [marker] = await self.publish(notification("posts", "marker"))
        got = await frames_before_marker(ws, marker)
        self.assertEqual([f["seq"] for f in got], [seqs[0], seqs[2], seqs[3], seqs[5]])

    async def test_invalid_filters_are_refused_as_invalid_names(self):
        for entry in ["posts[forum_id]", "posts[forum_id=7", "posts[]", "posts[a b=1]", "posts[a=1,a=2]",
                      "posts[a=[1]]", "posts[a='x']", "*[a=1]", "posts[a.b.c.d.e=1]", "posts[a=1]x"]:
            with self.subTest(entry=entry):
                res = await self.http("GET", "/ws?" + q(entry), headers={
                    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
                self.assert_error_body(res, 400, "invalid_name")
        ws, _ = await self.connect(q(F7))
        await ws.send('{"type":"subscribe","collections":["forums","posts[forum_id=]"],"ref":"x"}')
        err = await recv_json(ws)
        self.assertEqual((err["type"], err["code"], err["ref"]), ("error", "invalid_name", "x"), err)
        self.assertIn("posts[forum_id=]", err["message"])
        await ws.send('{"type":"subscribe","collections":[],"ref":"y"}')
        self.assertEqual((await recv_json(ws))["collections"], [F7])  # the set is unchanged

    async def test_a_filter_inside_a_comma_list_and_a_record_with_brackets(self):
        ws, _ = await self.connect("collections=" + urllib.parse.quote(
            'posts[forum_id=7,title="a,b]"],forums/x[1],users', safe=""))
        await ws.send('{"type":"subscribe","collections":[]}')
        self.assertEqual((await recv_json(ws))["collections"],
                         ["forums/x[1]", 'posts[forum_id=7,title="a,b]"]', "users"])


class FilterLimitTest(ServerTestCase):
    server_flags = ("--max-subscriptions", "2")

    async def test_filtered_entries_count_towards_max_subscriptions(self):
        ws, _ = await self.connect(q("posts[forum_id=1]", "posts[forum_id=2]"))
        await ws.send('{"type":"subscribe","collections":["posts[forum_id=3]"]}')
        self.assertEqual((await recv_json(ws))["code"], "too_many_subscriptions")
        res = await self.http("GET", "/ws?" + q("a[x=1]", "a[x=2]", "a[x=3]"), headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        self.assert_error_body(res, 400, "too_many_subscriptions")


class FilteredTokenTest(SecurityTestCase):
    """A token whose read claim is one forum's posts."""

    @classmethod
    def setUpClass(cls) -> None:
        from test_security import SECRET, ISSUER, AUDIENCE
        cls.server_flags = ("--jwt-secret", SECRET, "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE)
        super().setUpClass()

    async def test_the_implicit_subscription_is_the_filtered_claim(self):
        ws, _ = await self.connect_token(self.token([F7]))
        await ws.send('{"type":"unsubscribe","collections":[]}')
        self.assertEqual((await recv_json(ws))["collections"], [F7])
        seqs = await self.publish_ok([n for n, _ in BATCH])
        [marker] = await self.publish_ok(notification("posts", "marker", id="m", data={"forum_id": 7}))
        got = await frames_before_marker(ws, marker)
        self.assertEqual([f["seq"] for f in got], [s for s, (_, w) in zip(seqs, BATCH) if w])

    async def test_narrower_filters_are_allowed_wider_ones_forbidden(self):
        ws, _ = await self.connect_token(self.token([F7, "forums"]), "collections=")
        for entry in ["posts[forum_id=7,pinned=true]", "posts[forum_id=7.0]", "forums[owner=1]", "forums"]:
            await ws.send(f'{{"type":"subscribe","collections":["{entry}"]}}')
            self.assertEqual((await recv_json(ws))["type"], "subscribed", entry)
        for entry in ["posts", "posts[forum_id=8]", "posts[pinned=true]", "posts/12", "*"]:
            await ws.send(f'{{"type":"subscribe","collections":["{entry}"]}}')
            frame = await recv_json(ws)
            self.assertEqual((frame["type"], frame["code"]), ("error", "forbidden"), entry)
        await self.assert_refused(self.token([F7]), 403, "forbidden", "collections=posts")
        await self.assert_refused(self.token([F7]), 403, "forbidden", q("posts[forum_id=8]"))

    async def test_delivery_stays_inside_the_claim(self):
        # Subscribed to a narrower filter on another field: what it matches
        # only through an unknown forum_id is still within forum 7.
        ws, _ = await self.connect_token(self.token([F7]), q("posts[forum_id=7,pinned=true]"))
        s = await self.publish_ok([
            post("create", 1, {"forum_id": 7, "pinned": True}),
            post("update", 1, {"forum_id": 8, "pinned": True}, {"forum_id": 7, "pinned": True}),
            post("create", 2, {"forum_id": 8, "pinned": True}),
        ])
        [marker] = await self.publish_ok(notification("posts", "marker", data={"forum_id": 7, "pinned": True}))
        self.assertEqual([f["seq"] for f in await frames_before_marker(ws, marker)], s[:2])


if __name__ == "__main__":
    import unittest
    unittest.main()
