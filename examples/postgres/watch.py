#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Prints the notifications of some collections as they arrive, resuming
after a reconnect like any client should (docs/protocol.md).

    python3 watch.py ws://127.0.0.1:8080/ws forums,posts

Needs Debian's python3-websockets.
"""

import asyncio
import json
import sys

import websockets


async def main(url: str, collections: str) -> None:
    epoch, seq = None, 0
    while True:
        query = f"?collections={collections}" + (f"&since={seq}&epoch={epoch}" if epoch else "")
        try:
            async with websockets.connect(url + query) as ws:
                async for text in ws:
                    frame = json.loads(text)
                    if frame.get("type") in ("welcome", "resync"):
                        epoch = frame["epoch"]
                        seq = frame["seq"] if frame.get("type") == "resync" or not frame.get("resumed") else seq
                    if "seq" in frame and "collection" in frame:
                        seq = frame["seq"]
                    print(text, flush=True)
        except (OSError, websockets.exceptions.ConnectionClosed) as e:
            print(f"# disconnected ({e}); reconnecting", file=sys.stderr, flush=True)
            await asyncio.sleep(1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: watch.py ws://HOST:PORT/ws COLLECTIONS")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
