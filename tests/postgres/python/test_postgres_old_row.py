# SPDX-License-Identifier: MIT
"""`notifierd postgres install` and the old row: install sets REPLICA
IDENTITY FULL (idempotent, and says so), --keep-replica-identity leaves the
tables alone and prints what that costs, uninstall keeps the identity, and a
python3-websockets subscriber receives "old" on updates and deletes written
by psycopg2.

Needs the throwaway server of the ctest fixture `postgres` (NOTIFIER_TEST_PG).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "integration" / "python"))

from notifier_testlib import ClientHelpers, NotifierServer, is_notification, notifierd_path, recv_json, recv_notifications  # noqa: E402
from test_postgres_capture import fresh_database, sql  # noqa: E402

DB = "old_row_capture"
SLOT = "old_row_capture"
KEPT_SLOT = "old_row_kept"


def notifierd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([notifierd_path(), *args], timeout=60, capture_output=True, text=True)


class PostgresOldRow(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.admin, cls.url = fresh_database(DB, (SLOT, KEPT_SLOT))
        sql(cls.url, "CREATE TABLE forums (id int PRIMARY KEY, name text NOT NULL);"
                     "CREATE TABLE posts (id int PRIMARY KEY, forum_id int NOT NULL REFERENCES forums (id), "
                     "title text NOT NULL);"
                     "CREATE TABLE notes (id int PRIMARY KEY, body text);"
                     "CREATE TABLE kept_posts (id int PRIMARY KEY, forum_id int NOT NULL, title text NOT NULL)")
        cls.flags = ["--postgres", cls.url, "--tables", "forums,posts", "--postgres-slot", SLOT]
        cls.kept_flags = ["--postgres", cls.url, "--tables", "notes,kept_posts", "--postgres-slot", KEPT_SLOT,
                          "--postgres-publication", "kept", "--keep-replica-identity"]

    @classmethod
    def tearDownClass(cls) -> None:
        for slot, publication in ((SLOT, "notifier"), (KEPT_SLOT, "kept")):
            notifierd("postgres", "uninstall", "--postgres", cls.url, "--postgres-slot", slot,
                      "--postgres-publication", publication)
        sql(cls.admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")

    def replica_identity(self, table: str) -> str:
        return sql(self.url, f"SELECT relreplident FROM pg_class WHERE oid = '{table}'::regclass")[0][0]

    async def asyncTearDown(self) -> None:
        server = getattr(self, "server", None)
        if server and server.running():
            await asyncio.to_thread(server.stop)

    def test_install_sets_full_replica_identity_and_says_so(self) -> None:
        for _ in range(2):  # idempotent
            r = notifierd("postgres", "install", *self.flags)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('notifierd: installed slot "old_row_capture" and publication "notifier"', r.stdout)
            self.assertIn("notifierd: REPLICA IDENTITY FULL on forums, posts: updates and deletes carry the old row",
                          r.stdout)
            self.assertEqual(self.replica_identity("forums"), "f")
            self.assertEqual(self.replica_identity("posts"), "f")
        printed = notifierd("postgres", "install", *self.flags, "--print")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertIn('ALTER TABLE "posts" REPLICA IDENTITY FULL', printed.stdout)

    def test_keep_replica_identity_leaves_the_tables_alone_and_warns(self) -> None:
        r = notifierd("postgres", "install", *self.kept_flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.replica_identity("notes"), "d")
        self.assertNotIn("REPLICA IDENTITY FULL", r.stdout)
        warning = ("notifierd: --keep-replica-identity: the tables keep their replica identity. With the default "
                   "one (the primary key) PostgreSQL sends only the key columns of the old row: deletes reach every "
                   "filtered subscription of their table (over-delivery), and an update moving a row out of a "
                   "filter can be missed by that filter's subscribers.\n")
        self.assertIn(warning, r.stdout)
        self.assertEqual(r.stderr, "")
        printed = notifierd("postgres", "install", *self.kept_flags, "--print")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertTrue(printed.stdout.startswith("-- --keep-replica-identity: "), printed.stdout)
        self.assertNotIn("REPLICA IDENTITY FULL", printed.stdout)
        # Uninstall keeps whatever identity the tables have, and says so.
        r = notifierd("postgres", "uninstall", *self.flags[:2], "--postgres-slot", KEPT_SLOT,
                      "--postgres-publication", "kept")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("keep their replica identity", r.stdout)
        self.assertEqual(self.replica_identity("notes"), "d")

    def test_help_names_the_flag_and_what_uninstall_keeps(self) -> None:
        r = notifierd("postgres", "install", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("REPLICA IDENTITY FULL", r.stdout)
        self.assertIn("--keep-replica-identity", r.stdout)
        r = notifierd("postgres", "uninstall", "--help")
        self.assertIn("keep their replica identity", r.stdout)
        r = notifierd("--help")
        self.assertRegex(r.stdout, r"--keep-replica-identity[^\n]*\(Env:NOTIFIER_KEEP_REPLICA_IDENTITY\)")

    async def test_a_subscriber_receives_the_old_row_of_updates_and_deletes(self) -> None:
        r = notifierd("postgres", "install", *self.flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        sql(self.url, "INSERT INTO forums VALUES (7, 'seven'), (8, 'eight')")
        self.server = NotifierServer(*self.flags).start()
        ws, _ = await self.connect("collections=posts")
        sql(self.url, "INSERT INTO posts VALUES (1, 7, 'hello')")
        sql(self.url, "UPDATE posts SET forum_id = 8 WHERE id = 1")
        sql(self.url, "DELETE FROM posts WHERE id = 1")
        created, moved, deleted = await recv_notifications(ws, 3)
        self.assertNotIn("old", created)
        self.assertEqual(moved["action"], "update")
        self.assertEqual(moved["old"], {"id": 1, "forum_id": 7, "title": "hello"})
        self.assertEqual(moved["data"], {"id": 1, "forum_id": 8, "title": "hello"})
        self.assertEqual(deleted["action"], "delete")
        self.assertEqual(deleted["old"], {"id": 1, "forum_id": 8, "title": "hello"})

    async def until_marker(self, ws, collection: str, marker_id: str) -> list[tuple[str, str]]:
        """(action, id) of the notifications of other collections before the
        row `marker_id` of `collection` arrives."""
        got: list[tuple[str, str]] = []
        while True:
            frame = await recv_json(ws, timeout=20)
            if not is_notification(frame):
                continue
            if frame["collection"] == collection:
                if frame["id"] == marker_id:
                    return got
                continue  # rows written before the test's own, captured all the same
            got.append((frame["action"], frame["id"]))

    async def test_filtered_subscribers_see_rows_leave_with_full_identity(self) -> None:
        r = notifierd("postgres", "install", *self.flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        sql(self.url, "INSERT INTO forums VALUES (17, 'a'), (18, 'b') ON CONFLICT DO NOTHING")
        self.server = NotifierServer(*self.flags).start()
        q = "collections=forums,"
        ws7, _ = await self.connect(q + "posts%5Bforum_id%3D17%5D")
        ws8, _ = await self.connect(q + "posts%5Bforum_id%3D18%5D")
        sql(self.url, "INSERT INTO posts VALUES (11, 17, 'hello')")
        sql(self.url, "UPDATE posts SET forum_id = 18 WHERE id = 11")
        sql(self.url, "INSERT INTO posts VALUES (12, 18, 'there')")
        sql(self.url, "DELETE FROM posts WHERE id = 11")
        sql(self.url, "INSERT INTO forums VALUES (19, 'marker')")
        self.assertEqual(await self.until_marker(ws7, "forums", "19"), [("create", "11"), ("update", "11")])
        self.assertEqual(await self.until_marker(ws8, "forums", "19"),
                         [("update", "11"), ("create", "12"), ("delete", "11")])

    async def test_with_the_default_identity_a_move_out_is_missed_and_deletes_over_deliver(self) -> None:
        # What install says --keep-replica-identity costs, as it happens.
        r = notifierd("postgres", "install", *self.kept_flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.replica_identity("kept_posts"), "d")
        self.server = NotifierServer(*self.kept_flags).start()
        q = "collections=notes,"
        ws7, _ = await self.connect(q + "kept_posts%5Bforum_id%3D7%5D")
        ws8, _ = await self.connect(q + "kept_posts%5Bforum_id%3D8%5D")
        sql(self.url, "INSERT INTO kept_posts VALUES (1, 7, 'hello')")
        sql(self.url, "UPDATE kept_posts SET forum_id = 8 WHERE id = 1")  # no old row sent
        sql(self.url, "DELETE FROM kept_posts WHERE id = 1")              # old: the key only
        sql(self.url, "INSERT INTO notes VALUES (1, 'marker')")
        self.assertEqual(await self.until_marker(ws7, "notes", "1"), [("create", "1"), ("delete", "1")])
        self.assertEqual(await self.until_marker(ws8, "notes", "1"), [("update", "1"), ("delete", "1")])


if __name__ == "__main__":
    unittest.main()
