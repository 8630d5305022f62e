# SPDX-License-Identifier: MIT
"""The benchmark tools still measure what docs/benchmarks.md says they do.

notifier-loadgen against a real notifierd (a short paced run): nothing lost,
every delivery timed twice, and the kernel's arrival time on the client
socket never later than the moment the load generator read it; the same
counts over Server-Sent Events streams (--protocol sse). cpu_noise: a
short run that reports every CPU this process may use.
"""

import json
import os
import re
import subprocess
import unittest

NOTIFIERD = os.environ["NOTIFIERD"]
LOADGEN = os.environ["NOTIFIER_LOADGEN"]
CPU_NOISE = os.environ["CPU_NOISE"]


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def assert_timed_twice(case: unittest.TestCase, d: dict) -> None:
    """Every delivery timed when read and when the kernel received it: each
    frame reaches the socket before it is read; the clock conversion may be
    off by a microsecond or two, not more."""
    read, arrival = d["latency_us"], d["arrival_latency_us"]
    case.assertEqual(read["samples"], d["delivered"])
    case.assertIsNotNone(arrival, "the kernel gave no receive timestamps")
    case.assertEqual(arrival["samples"], d["delivered"])
    for q in ("p50", "p90", "p99", "max"):
        case.assertLessEqual(arrival[q], read[q] + 2, (q, arrival, read))


class NotifierdPerTest:
    """A notifierd per test on a free loopback port (self.port), started
    with `server_flags()`; stopped with SIGTERM, which must exit 0."""

    scheme = "http"

    def server_flags(self) -> list[str]:
        return []

    def setUp(self) -> None:
        self.server = subprocess.Popen([NOTIFIERD, "--listen", "127.0.0.1:0", "--log-level", "warn",
                                        *self.server_flags()],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(self.stop_server)
        line = self.server.stdout.readline()
        m = re.search(rf"listening on {self.scheme}://127\.0\.0\.1:(\d+)", line)
        self.assertIsNotNone(m, line)
        self.port = int(m.group(1))

    def stop_server(self) -> None:
        self.server.terminate()
        self.assertEqual(self.server.wait(timeout=20), 0)
        self.server.stdout.close()


class LoadgenTest(NotifierdPerTest, unittest.TestCase):
    def test_a_paced_run_loses_nothing_and_times_every_delivery_twice(self):
        r = subprocess.run([LOADGEN, "--url", f"ws://127.0.0.1:{self.port}/ws", "--clients", "20",
                            "--publishers", "2", "--rate", "4000", "--duration", "1", "--quiet",
                            "--server-pid", str(self.server.pid)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertGreater(d["published"], 100, d)
        self.assertEqual(d["publish_errors"], 0, d)
        self.assertEqual(d["expected"], d["published"] * 20)
        self.assertEqual(d["delivered"], d["expected"], d)
        self.assertEqual((d["lost"], d["duplicates"], d["out_of_order"], d["seq_errors"]), (0, 0, 0, 0), d)
        assert_timed_twice(self, d)
        self.assertGreater(d["arrival_latency_us"]["max"], 0)
        self.assertGreater(d["server_rss_kib"], 0)


    def test_several_receiving_threads_count_every_client_once(self):
        r = subprocess.run([LOADGEN, "--url", f"ws://127.0.0.1:{self.port}/ws", "--clients", "31",
                            "--publishers", "2", "--rate", "3100", "--duration", "1", "--rx-threads", "3",
                            "--quiet", "--server-pid", str(self.server.pid)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertGreater(d["published"], 50, d)
        self.assertEqual(d["expected"], d["published"] * 31)
        self.assertEqual(d["delivered"], d["expected"], d)
        self.assertEqual((d["lost"], d["duplicates"], d["out_of_order"], d["seq_errors"]), (0, 0, 0, 0), d)
        self.assertEqual(d["latency_us"]["samples"], d["delivered"])
        self.assertIsNone(d["first_client_latency_us"]["p50"], d)
        self.assertGreater(d["loadgen_cpu_s"], 0)

    def spread_run(self, *extra: str) -> dict:
        r = subprocess.run([LOADGEN, "--url", f"ws://127.0.0.1:{self.port}/ws", "--clients", "50",
                            "--publishers", "2", "--rate", "5000", "--duration", "1", "--collection", "posts",
                            "--spread", "10", "--quiet", "--server-pid", str(self.server.pid), *extra],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return last_json_line(r.stdout)

    def assert_each_client_got_its_share(self, d: dict, clients_per_publish: int) -> None:
        self.assertGreater(d["published"], 200, d)
        self.assertEqual(d["publish_errors"], 0, d)
        self.assertEqual(d["seq_check"], "increasing")
        # Every publish reaches the clients of its forum(s), and only them.
        self.assertEqual(d["expected"], d["published"] * clients_per_publish, d)
        self.assertEqual(d["delivered"], d["expected"], d)
        self.assertEqual((d["lost"], d["unexpected"], d["duplicates"], d["out_of_order"], d["seq_errors"]),
                         (0, 0, 0, 0, 0), d)
        self.assertEqual((d["client_delivered_min"], d["client_delivered_max"]),
                         (d["client_expected_min"], d["client_expected_max"]), d)
        # Forums get publishes in turn: their counts differ by one (two with old).
        self.assertLessEqual(d["client_expected_max"] - d["client_expected_min"], 2, d)
        self.assertEqual(d["latency_us"]["samples"], d["delivered"])

    def test_filtered_clients_get_exactly_their_forums_publishes(self):
        # 50 clients on 10 forums: client i watches forum i mod 10, publish n goes to forum n mod 10.
        d = self.spread_run("--subscribe-template", "posts[forum_id={i}]")
        self.assertEqual((d["spread"], d["subscribe_template"]), (10, "posts[forum_id={i}]"))
        self.assert_each_client_got_its_share(d, 5)
        # With old in the next forum, a publish also reaches the forum the post left.
        d = self.spread_run("--subscribe-template", "posts[forum_id={i}]", "--spread-old", "1",
                            "--rx-threads", "2")
        self.assert_each_client_got_its_share(d, 10)

    def test_record_topics_get_exactly_their_records_publishes(self):
        self.assert_each_client_got_its_share(self.spread_run("--subscribe-template", "posts/{i}"), 5)

    def test_deliveries_of_another_forum_are_counted_not_taken_for_its_own(self):
        # Unfiltered "posts": each client gets every publish, nine in ten of another forum.
        d = self.spread_run("--subscribe-template", "posts")
        self.assertEqual(d["lost"], 0, d)
        self.assertEqual(d["expected"], d["published"] * 5, d)
        self.assertEqual(d["unexpected"], d["published"] * 50 - d["expected"], d)
        self.assertEqual(d["delivered"], d["published"] * 50, d)

    def test_sse_streams_lose_nothing_with_one_and_two_receiving_threads(self):
        # The ws:// URL is taken as http://…/sse.
        for threads in (1, 2):
            with self.subTest(rx_threads=threads):
                r = subprocess.run([LOADGEN, "--protocol", "sse", "--url", f"ws://127.0.0.1:{self.port}/ws",
                                    "--clients", "20", "--publishers", "2", "--rate", "4000", "--duration", "1",
                                    "--rx-threads", str(threads), "--quiet", "--server-pid", str(self.server.pid)],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                d = last_json_line(r.stdout)
                self.assertEqual(d["protocol"], "sse")
                self.assertGreater(d["published"], 100, d)
                self.assertEqual(d["publish_errors"], 0, d)
                self.assertEqual(d["expected"], d["published"] * 20)
                self.assertEqual(d["delivered"], d["expected"], d)
                self.assertEqual((d["lost"], d["duplicates"], d["out_of_order"], d["seq_errors"], d["unparsed"]),
                                 (0, 0, 0, 0, 0), d)
                self.assertEqual((d["client_delivered_min"], d["client_delivered_max"]),
                                 (d["published"], d["published"]), d)
                self.assertEqual((d["clients_closed"], d["clients_failed"]), (0, 0), d)
                self.assertEqual(d["latency_us"]["samples"], d["delivered"])
                # Each event carries at least its id line and data: prefix around the JSON.
                self.assertGreater(d["bytes_received"], d["delivered"] * 60, d)

    def test_sse_filtered_streams_get_exactly_their_forums_publishes(self):
        d = self.spread_run("--protocol", "sse", "--url", f"http://127.0.0.1:{self.port}/sse",
                            "--subscribe-template", "posts[forum_id={i}]", "--rx-threads", "2")
        self.assertEqual(d["protocol"], "sse")
        self.assert_each_client_got_its_share(d, 5)

    def test_sse_idle_streams_stay_open(self):
        r = subprocess.run([LOADGEN, "--protocol", "sse", "--url", f"http://127.0.0.1:{self.port}/sse",
                            "--idle", "50", "--settle", "0.2", "--quiet", "--server-pid", str(self.server.pid)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertEqual((d["idle_connections"], d["clients_closed"], d["clients_failed"]), (50, 0, 0), d)

    def test_spread_old_without_a_filter_is_refused(self):
        r = subprocess.run([LOADGEN, "--spread", "10", "--spread-old", "1", "--subscribe-template", "posts/{i}"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--spread-old", r.stderr)


class CpuNoiseTest(unittest.TestCase):
    def test_a_short_run_reports_every_usable_cpu(self):
        r = subprocess.run([CPU_NOISE, "--seconds", "0.3", "--interval-us", "500"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = last_json_line(r.stdout)
        self.assertEqual(sorted(c["cpu"] for c in d["cpus"]), sorted(os.sched_getaffinity(0)))
        for c in d["cpus"]:
            self.assertGreater(c["median_us"], 0)
            self.assertGreaterEqual(c["p99_us"], c["median_us"])
            self.assertGreaterEqual(c["max_us"], c["p99_us"])
        self.assertEqual(d["windows"], 3)
        self.assertLessEqual(d["slow_everywhere"], d["windows"])

    def test_bad_arguments_exit_2(self):
        r = subprocess.run([CPU_NOISE, "--seconds", "-1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)


if __name__ == "__main__":
    unittest.main()
