# SPDX-License-Identifier: MIT
"""notifier-loadgen over TLS (wss:// and https://).

Against an independent peer: tls_peer.py serves WebSocket over TLS with
Python's websockets library and an HTTPS publish endpoint. Every client must
get every publish, the report must say what was negotiated, and a server
that --tls-ca does not vouch for must be refused with the reason. Against
notifierd with --tls-cert/--tls-key: fan-out over /ws and /sse loses
nothing. Certificates are made here with the openssl command.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from test_bench_tools import NotifierdPerTest, assert_timed_twice, last_json_line

LOADGEN = os.environ["NOTIFIER_LOADGEN"]
NOTIFIERD = os.environ.get("NOTIFIERD")
OPENSSL = os.environ.get("OPENSSL", "openssl")
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_peer.py")


def make_certificate(directory: str, name: str, san: str) -> tuple:
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=" + san, "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=30)
    return cert, key


def run_loadgen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LOADGEN, "--quiet", *args], capture_output=True, text=True, timeout=120)


@unittest.skipUnless(importlib.util.find_spec("websockets"), "tls_peer.py needs python3-websockets")
class LoadgenTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.TemporaryDirectory()
        cls.server = make_certificate(cls.dir.name, "server", "DNS:localhost,IP:127.0.0.1")
        # Same names, another key: what a wrong --tls-ca looks like.
        cls.other = make_certificate(cls.dir.name, "other", "DNS:localhost,IP:127.0.0.1")
        cls.elsewhere = make_certificate(cls.dir.name, "elsewhere", "DNS:elsewhere.example")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.dir.cleanup()

    def start_peer(self, certificate=None, *extra: str) -> tuple:
        """Starts tls_peer.py; returns (ws port, publish port, pid)."""
        cert, key = certificate or self.server
        peer = subprocess.Popen([sys.executable, PEER, "--cert", cert, "--key", key, *extra],
                                stdout=subprocess.PIPE, text=True)

        def stop() -> None:
            peer.terminate()
            peer.wait(timeout=20)
            peer.stdout.close()

        self.addCleanup(stop)
        line = peer.stdout.readline().split()  # printed once both ports listen
        self.assertEqual(len(line), 4, line)
        return int(line[1]), int(line[3]), peer.pid

    def loadgen(self, *args: str) -> subprocess.CompletedProcess:
        return run_loadgen("--protocol", "ws", *args)

    def fanout(self, ws: int, publish: int, host: str, *args: str) -> dict:
        r = self.loadgen("--url", f"wss://{host}:{ws}/ws", "--publish-url", f"https://{host}:{publish}/publish",
                         "--publishers", "2", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertEqual(d["publish_errors"], 0, d)
        self.assertGreater(d["published"], 0, d)
        self.assertEqual(d["delivered"], d["expected"], d)
        self.assertEqual((d["lost"], d["duplicates"], d["out_of_order"], d["unparsed"]), (0, 0, 0, 0), d)
        self.assertEqual((d["clients_closed"], d["clients_failed"]), (0, 0), d)
        return d

    def assert_tls(self, d: dict, version: str, verified: bool) -> None:
        tls = d["tls"]
        self.assertIsNotNone(tls, d)
        for side in ("subscribers", "publishers"):
            self.assertEqual(tls[side]["version"], version, tls)
            self.assertTrue(tls[side]["cipher"], tls)
        self.assertEqual(tls["verified"], verified, tls)

    def test_every_wss_client_gets_every_https_publish(self):
        # An address is never sent as a server name (RFC 6066 section 3): the peer refuses any.
        ws, publish, pid = self.start_peer(None, "--require-sni", "-")
        d = self.fanout(ws, publish, "127.0.0.1", "--clients", "20", "--rate", "4000", "--duration", "1",
                        "--tls-ca", self.server[0], "--server-pid", str(pid))
        self.assertGreater(d["published"], 100, d)
        self.assertEqual(d["expected"], d["published"] * 20)
        self.assert_tls(d, "TLSv1.3", True)
        # Kernel receive times still reach the report through the TLS layer.
        assert_timed_twice(self, d)

    def test_records_read_ahead_are_read_to_the_last(self):
        # Reading every 5 ms lets records pile up in the socket: one recvmsg()
        # takes several, and what OpenSSL holds never wakes epoll again.
        ws, publish, _ = self.start_peer()
        d = self.fanout(ws, publish, "127.0.0.1", "--clients", "10", "--publishers", "4", "--duration", "1",
                        "--rx-batch-us", "5000", "--drain", "5")
        self.assertGreater(d["published"], 100, d)
        self.assertLess(d["drain_s"], 4, d)

    def test_a_host_name_is_sent_and_checked(self):
        ws, publish, _ = self.start_peer(None, "--require-sni", "localhost")
        d = self.fanout(ws, publish, "localhost", "--clients", "10", "--rate", "2000", "--duration", "0.5",
                        "--tls-ca", self.server[0])
        self.assert_tls(d, "TLSv1.3", True)

    def test_messages_of_several_records_arrive_whole(self):
        # 40 kB messages take three TLS records each, and a receive buffer
        # holds only a few: reads stop mid-record and resume. Unverified.
        ws, publish, _ = self.start_peer(None, "--pad", "40000")
        d = self.fanout(ws, publish, "127.0.0.1", "--clients", "20", "--rate", "2000", "--duration", "1",
                        "--rx-threads", "2")
        self.assertEqual(d["expected"], d["published"] * 20)
        self.assertGreater(d["bytes_received"], d["delivered"] * 40000, d)
        self.assert_tls(d, "TLSv1.3", False)

    def test_tls_1_2_can_be_pinned(self):
        ws, publish, _ = self.start_peer()
        d = self.fanout(ws, publish, "127.0.0.1", "--clients", "10", "--rate", "2000", "--duration", "0.5",
                        "--tls-version", "1.2", "--tls-ca", self.server[0])
        self.assert_tls(d, "TLSv1.2", True)

    def test_idle_connections_over_tls(self):
        ws, _, pid = self.start_peer()
        r = self.loadgen("--url", f"wss://127.0.0.1:{ws}/ws", "--idle", "20", "--settle", "0.1",
                         "--server-pid", str(pid))
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertEqual((d["idle_connections"], d["clients_failed"]), (20, 0), d)
        self.assertEqual(d["tls"]["subscribers"]["version"], "TLSv1.3", d)
        self.assertIsNone(d["tls"]["publishers"], d)

    def test_a_certificate_another_ca_vouches_for_is_refused(self):
        ws, publish, _ = self.start_peer()
        r = self.loadgen("--url", f"wss://127.0.0.1:{ws}/ws", "--publish-url", f"https://127.0.0.1:{publish}/publish",
                         "--clients", "3", "--duration", "0.2", "--tls-ca", self.other[0])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("3 of 3 clients could not connect", r.stderr)
        self.assertIn("TLS handshake: certificate verify failed (self-signed certificate)", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_a_certificate_for_another_host_is_refused(self):
        ws, _, _ = self.start_peer(self.elsewhere)
        for host, why in (("127.0.0.1", "IP address mismatch"), ("localhost", "hostname mismatch")):
            with self.subTest(host=host):
                r = self.loadgen("--url", f"wss://{host}:{ws}/ws", "--clients", "1", "--duration", "0.2",
                                 "--tls-ca", self.elsewhere[0])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"certificate verify failed ({why})", r.stderr)

    def test_tls_options_need_a_tls_url(self):
        for option in (("--tls-ca", self.server[0]), ("--tls-version", "1.3")):
            with self.subTest(option=option[0]):
                r = self.loadgen("--url", "ws://127.0.0.1:9/ws", *option)
                self.assertEqual(r.returncode, 2)
                self.assertIn("need a wss:// or https:// URL", r.stderr)
        r = self.loadgen("--url", "wss://127.0.0.1:9/ws", "--tls-version", "1.1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tls-version", r.stderr)


@unittest.skipUnless(NOTIFIERD, "NOTIFIERD is not set")
class LoadgenTlsNotifierdTest(NotifierdPerTest, unittest.TestCase):
    """notifierd's own TLS listener: the fan-out table's TLS column."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.TemporaryDirectory()
        cls.cert, cls.key = make_certificate(cls.dir.name, "notifierd", "DNS:localhost,IP:127.0.0.1")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.dir.cleanup()

    scheme = "https"

    def server_flags(self) -> list[str]:
        return ["--tls-cert", self.cert, "--tls-key", self.key]

    def run_fanout(self, clients: int, *args: str) -> dict:
        # No --publish-url: a wss:// URL publishes to https://<its host:port>/publish.
        r = run_loadgen("--clients", str(clients), "--publishers", "2", "--tls-ca", self.cert,
                        "--server-pid", str(self.server.pid), *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertGreater(d["published"], 100, d)
        self.assertEqual(d["publish_errors"], 0, d)
        self.assertEqual(d["expected"], d["published"] * clients, d)
        self.assertEqual(d["delivered"], d["expected"], d)
        self.assertEqual((d["lost"], d["duplicates"], d["out_of_order"], d["seq_errors"], d["unparsed"]),
                         (0, 0, 0, 0, 0), d)
        self.assertEqual((d["clients_closed"], d["clients_failed"]), (0, 0), d)
        self.assertEqual(d["latency_us"]["samples"], d["delivered"])
        tls = d["tls"]
        for side in ("subscribers", "publishers"):
            self.assertEqual(tls[side]["version"], "TLSv1.3", tls)
        self.assertTrue(tls["verified"], tls)
        return d

    def test_wss_fanout_loses_nothing(self):
        d = self.run_fanout(20, "--url", f"wss://127.0.0.1:{self.port}/ws", "--rate", "4000", "--duration", "1")
        self.assertEqual(d["arrival_latency_us"]["samples"], d["delivered"], d)

    def test_unpaced_wss_fanout_on_two_receiving_threads_loses_nothing(self):
        self.run_fanout(31, "--url", f"wss://127.0.0.1:{self.port}/ws", "--duration", "1", "--rx-threads", "2")

    def test_sse_over_https_loses_nothing(self):
        d = self.run_fanout(20, "--protocol", "sse", "--url", f"https://127.0.0.1:{self.port}/sse",
                            "--rate", "4000", "--duration", "1")
        self.assertEqual(d["protocol"], "sse")

    def test_a_plain_client_is_told_to_use_tls(self):
        r = run_loadgen("--url", f"ws://127.0.0.1:{self.port}/ws", "--clients", "1", "--duration", "0.2")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("upgrade refused: HTTP/1.1 400", r.stderr)


if __name__ == "__main__":
    unittest.main()
