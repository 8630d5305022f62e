# SPDX-License-Identifier: MIT
"""A TLS peer for notifier-loadgen --protocol ws, independent of notifierd.

wss://HOST:P/ws: Python's websockets library; every connected client gets
every publish as a text message. https://HOST:Q/publish: each POST body is
broadcast (with --pad N, N more bytes in a "pad" member) and answered 202 on
a keep-alive connection. Prints "ws P publish Q" once both listen, then
serves until SIGTERM or SIGINT.

Both listen on 127.0.0.1, and on ::1 with the same port where the machine
has it, so that a URL naming localhost reaches them whichever address the
resolver gives first. --require-sni NAME refuses handshakes whose server
name is not NAME ("-": refuses any server name, as an address must not be
sent as one).
"""

import argparse
import asyncio
import signal
import socket
import ssl

import websockets

clients = set()


async def subscriber(ws, path=None):
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)


def make_publish_handler(pad: int):
    async def publish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = (await reader.readexactly(length)).decode()
                if pad > 0:
                    body = body[:-1] + ',"pad":"' + "x" * pad + '"}'
                websockets.broadcast(clients, body)
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    return publish


def listening_sockets():
    """A socket on 127.0.0.1:0 and, when possible, one on ::1 with its port."""
    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(("127.0.0.1", 0))
    socks = [v4]
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        v6.bind(("::1", v4.getsockname()[1]))
        socks.append(v6)
    except OSError:
        pass
    for s in socks:
        s.listen(1024)
        s.setblocking(False)
    return socks


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--pad", type=int, default=0)
    parser.add_argument("--require-sni")
    args = parser.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    if args.require_sni is not None:
        wanted = None if args.require_sni == "-" else args.require_sni

        def check_sni(sslobj, server_name, sslctx):
            return None if server_name == wanted else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

        ctx.sni_callback = check_sni

    servers = []
    ws_socks, publish_socks = listening_sockets(), listening_sockets()
    for s in ws_socks:
        servers.append(await websockets.serve(subscriber, sock=s, ssl=ctx))
    for s in publish_socks:
        servers.append(await asyncio.start_server(make_publish_handler(args.pad), sock=s, ssl=ctx))
    print(f"ws {ws_socks[0].getsockname()[1]} publish {publish_socks[0].getsockname()[1]}", flush=True)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
