#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A backend in another language writing to PostgreSQL: it knows nothing of
notifier. notifierd, watching the database, turns each committed change into
a notification for subscribed browsers.

    python3 writer.py postgresql://USER@HOST/DB

Creates a forum, renames it, adds a post, and deletes the forum (the post
goes with it: ON DELETE CASCADE), each in its own transaction; a fifth
transaction is rolled back and produces nothing. Prints what it did.
Needs Debian's python3-psycopg2.
"""

import sys

import psycopg2


def main(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = False
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO forums (name) VALUES (%s) RETURNING id", ("General",))
        forum_id = cur.fetchone()[0]
    print(f"created forum {forum_id}", flush=True)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE forums SET name = %s WHERE id = %s", ("General chat", forum_id))
    print(f"renamed forum {forum_id}", flush=True)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO posts (forum_id, title) VALUES (%s, %s) RETURNING id", (forum_id, "Hello"))
        post_id = cur.fetchone()[0]
    print(f"created post {post_id}", flush=True)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO forums (name) VALUES (%s)", ("never",))
            raise RuntimeError("changed my mind")
    except RuntimeError:
        print("rolled back a forum", flush=True)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM forums WHERE id = %s", (forum_id,))
    print(f"deleted forum {forum_id}", flush=True)
    conn.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: writer.py postgresql://USER@HOST/DB")
    main(sys.argv[1])
