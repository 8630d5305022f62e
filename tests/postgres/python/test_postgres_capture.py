# SPDX-License-Identifier: MIT
"""notifierd watching a real PostgreSQL database, end to end: a Python
backend (psycopg2) writes, a WebSocket client (python3-websockets) sees each
committed change live; changes made while notifierd or PostgreSQL restarts
are not lost; the curl example publishes over plain HTTP.

Needs the throwaway server of the ctest fixture `postgres`:
NOTIFIER_TEST_PG (its URL without a database) and NOTIFIER_TEST_PG_DIR (its
directory, for the PostgreSQL restart).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(REPO / "tests" / "integration" / "python"))

import psycopg2  # noqa: E402

from notifier_testlib import ClientHelpers, NotifierServer, notifierd_path, recv_notifications  # noqa: E402

EXAMPLE = REPO / "examples" / "postgres"
DB = "example_capture"
SLOT = "example_capture"


def server_url() -> str:
    url = os.environ.get("NOTIFIER_TEST_PG")
    if not url:
        raise unittest.SkipTest("NOTIFIER_TEST_PG is not set: run through ctest (fixture `postgres`)")
    return url


def sql(url: str, statement: str, autocommit: bool = True):
    conn = psycopg2.connect(url)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def fresh_database(name: str, slots: tuple[str, ...]) -> tuple[str, str]:
    """Drops `slots` (when unused) and database `name`, creates it empty;
    the admin URL and the database's URL."""
    base = server_url()
    admin = base + "/postgres"
    for slot in slots:
        sql(admin, f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   f"WHERE slot_name = '{slot}' AND NOT active")
    sql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    sql(admin, f"CREATE DATABASE {name}")
    return admin, base + "/" + name


def pg_ctl(*args: str) -> None:
    data = Path(os.environ["NOTIFIER_TEST_PG_DIR"]) / "data"
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=120)


class PostgresCapture(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.admin, cls.url = fresh_database(DB, (SLOT,))
        sql(cls.url, (EXAMPLE / "schema.sql").read_text())
        cls.flags = ["--postgres", cls.url, "--tables", "forums,posts", "--postgres-slot", SLOT]
        # The documented set-up step, run twice: it is idempotent.
        for _ in range(2):
            subprocess.run([notifierd_path(), "postgres", "install", *cls.flags], check=True, timeout=60,
                           capture_output=True)

    @classmethod
    def tearDownClass(cls) -> None:
        # Only the connection and the names are needed to remove it all.
        subprocess.run([notifierd_path(), "postgres", "uninstall", "--postgres", cls.url, "--postgres-slot", SLOT],
                       check=True, timeout=60, capture_output=True)
        sql(cls.admin, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")

    async def asyncSetUp(self) -> None:
        self.server = NotifierServer(*self.flags).start()

    async def asyncTearDown(self) -> None:
        if self.server.running():
            # Off the event loop: its clients must answer the close frames.
            await asyncio.to_thread(self.server.stop)

    async def test_python_writer_changes_reach_a_subscriber_live_and_in_order(self) -> None:
        ws, _ = await self.connect("collections=forums,posts")
        out = await asyncio.to_thread(subprocess.run, ["/usr/bin/python3", str(EXAMPLE / "writer.py"), self.url],
                                      check=True, capture_output=True, text=True, timeout=60)
        self.assertIn("rolled back a forum", out.stdout)
        got = await recv_notifications(ws, 5)
        summary = [(n["collection"], n["action"]) for n in got]
        self.assertEqual(summary, [("forums", "create"), ("forums", "update"), ("posts", "create"),
                                   ("forums", "delete"), ("posts", "delete")])  # the cascade runs after
        forum_id = got[0]["id"]
        self.assertEqual(got[0]["data"]["name"], "General")
        self.assertEqual(got[1]["data"]["name"], "General chat")
        self.assertEqual(got[2]["data"]["forum_id"], int(forum_id))
        self.assertEqual(got[3]["id"], forum_id)
        self.assertEqual([n["seq"] for n in got], list(range(got[0]["seq"], got[0]["seq"] + 5)))
        # The source's health on /metrics.
        metrics = (await self.http("GET", "/metrics")).body.decode()
        self.assertIn('notifier_source_up{source="postgres"} 1', metrics)
        self.assertRegex(metrics, r'notifier_source_changes_total\{source="postgres"\} 5(\.0)?\n')
        self.assertRegex(metrics, r'notifier_source_errors_total\{source="postgres"\} 0(\.0)?\n')

    async def test_nothing_is_lost_while_notifierd_or_postgresql_restarts(self) -> None:
        # notifierd stops; a row is committed while it is away.
        await asyncio.to_thread(self.server.stop)
        sql(self.url, "INSERT INTO forums (name) VALUES ('while notifierd was away')")
        self.server = NotifierServer(*self.flags).start()
        # A new notifierd has a new epoch: read it, then replay from its start,
        # so the row is seen whether it was emitted before or after we connect.
        _, welcome = await self.connect()
        ws, resumed = await self.connect(f"collections=forums&since=0&epoch={welcome['epoch']}")
        self.assertTrue(resumed["resumed"], resumed)
        sql(self.url, "INSERT INTO forums (name) VALUES ('after notifierd restarted')")
        names = [n["data"]["name"] for n in await recv_notifications(ws, 2)]
        self.assertEqual(names, ["while notifierd was away", "after notifierd restarted"])

        # PostgreSQL restarts under a running notifierd, which reconnects and
        # goes on from where it was.
        await asyncio.to_thread(pg_ctl, "-m", "fast", "-w", "restart")
        sql(self.url, "INSERT INTO forums (name) VALUES ('after postgresql restarted')")
        got = await recv_notifications(ws, 1)
        self.assertEqual(got[0]["data"]["name"], "after postgresql restarted")
        self.assertEqual(got[0]["seq"], 3)
        # The lost connection was logged as a structured warning.
        self.assertRegex(self.server.stderr(), r"level=warn event=source_error source=postgres detail=")

    async def test_curl_publishes_over_plain_http(self) -> None:
        ws, _ = await self.connect("collections=forums,posts")
        env = {**os.environ, "NOTIFIER_URL": f"http://127.0.0.1:{self.server.port}"}
        out = await asyncio.to_thread(subprocess.run, ["sh", str(EXAMPLE / "publish.sh")], env=env, check=True,
                                      capture_output=True, text=True, timeout=30)
        self.assertIn('"seqs"', out.stdout)
        got = await recv_notifications(ws, 2)
        self.assertEqual(got[0]["data"], {"name": "from curl"})
        self.assertEqual((got[1]["collection"], got[1]["id"]), ("posts", "42"))


if __name__ == "__main__":
    unittest.main()
