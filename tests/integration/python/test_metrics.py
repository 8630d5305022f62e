# SPDX-License-Identifier: MIT
"""GET /metrics (docs/operations.md): valid Prometheus text, and counters that
move exactly as real clients act; notifierd's structured log lines."""

import asyncio
import json
import re
import socket
import unittest

from notifier_testlib import (
    TIMEOUT,
    ClientHelpers,
    NotifierServer,
    kernel_send_buffer_max,
    notification,
    recv_json,
    no_seq,
)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # Debian: python3-prometheus-client (scripts/install-deps)
    text_string_to_metric_families = None

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
FLOAT = re.compile(r"[+-]?(?:Inf|NaN|Nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def parse_strict(text: str) -> dict[str, dict]:
    """A strict reader of the text format 0.0.4 as the hub writes it: every
    family has HELP then TYPE (counter, gauge or histogram) before its
    samples, sample names are the family's (a histogram's: _bucket with an
    `le` label, _count, _sum), label values use only the three escapes,
    values are floats, no series repeats, histogram buckets are cumulative up
    to le="+Inf" = _count, and the text ends with a newline.
    Returns {family: {"type", "help", "samples": {labels tuple: value}}};
    a histogram's sample keys start with ("", suffix)."""
    if not text.endswith("\n"):
        raise AssertionError("output does not end with a newline")
    families: dict[str, dict] = {}
    current = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            if not METRIC_NAME.fullmatch(name) or name in families:
                raise AssertionError(f"bad or repeated family {where}")
            if "\\" in help_text.replace("\\\\", "").replace("\\n", ""):
                raise AssertionError(f"bad escape in HELP {where}")
            current = families[name] = {"help": help_text, "type": None, "samples": {}}
            current["name"] = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            if current is None or name != current["name"] or current["type"] is not None:
                raise AssertionError(f"TYPE without its HELP {where}")
            if kind not in ("counter", "gauge", "histogram"):
                raise AssertionError(f"unexpected type {where}")
            current["type"] = kind
        elif line.startswith("#") or not line:
            raise AssertionError(f"unexpected comment or blank line {where}")
        else:
            m = re.fullmatch(r"([^{ ]+)(?:\{(.*)\})? (\S+)", line)
            if not m or current is None or current["type"] is None:
                raise AssertionError(f"sample outside its family {where}")
            suffix = None
            if current["type"] == "histogram":
                suffix = m.group(1)[len(current["name"]):]
                if not m.group(1).startswith(current["name"]) or suffix not in ("_bucket", "_count", "_sum"):
                    raise AssertionError(f"sample outside its histogram {where}")
            elif m.group(1) != current["name"]:
                raise AssertionError(f"sample outside its family {where}")
            labels = []
            rest = m.group(2) or ""
            while rest:
                lm = LABEL.match(rest)
                if not lm:
                    raise AssertionError(f"bad label {where}")
                labels.append((lm.group(1), lm.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")))
                rest = rest[lm.end():]
                if rest.startswith(","):
                    rest = rest[1:]
                    if not rest:
                        raise AssertionError(f"trailing comma {where}")
                elif rest:
                    raise AssertionError(f"bad label separator {where}")
            if not FLOAT.fullmatch(m.group(3)):
                raise AssertionError(f"bad value {where}")
            key = tuple(sorted(labels))
            if suffix is not None:
                if (suffix == "_bucket") != any(k == "le" for k, _ in labels):
                    raise AssertionError(f"le label on a bucket and only there {where}")
                key = (("", suffix),) + key
            if key in current["samples"]:
                raise AssertionError(f"repeated series {where}")
            value = float(m.group(3))
            if current["type"] == "counter" and not value >= 0:
                raise AssertionError(f"negative counter {where}")
            current["samples"][key] = value
    for name, f in families.items():
        if f["type"] is None:
            raise AssertionError(f"family {name} has no TYPE")
        if f["type"] == "histogram":
            buckets = [(float(dict(k)["le"]), v) for k, v in f["samples"].items() if k[0] == ("", "_bucket")]
            count = f["samples"].get((("", "_count"),))
            if not buckets or count is None or (("", "_sum"),) not in f["samples"]:
                raise AssertionError(f"histogram {name} lacks buckets, _count or _sum")
            values = [v for _, v in sorted(buckets)]
            if values != sorted(values) or sorted(buckets)[-1] != (float("inf"), count):
                raise AssertionError(f"histogram {name}: buckets not cumulative up to +Inf = _count")
    return families


# Every family the hub reports (docs/operations.md lists them).
EXPECTED = {
    "notifier_connections_open": "gauge",
    "notifier_connections_accepted_total": "counter",
    "notifier_connections_rejected_total": "counter",
    "notifier_websocket_sessions": "gauge",
    "notifier_websocket_opened_total": "counter",
    "notifier_websocket_closed_total": "counter",
    "notifier_sse_streams": "gauge",
    "notifier_sse_streams_opened_total": "counter",
    "notifier_sse_streams_closed_total": "counter",
    "notifier_tls_handshakes_total": "counter",
    "notifier_tls_kernel_connections_total": "counter",
    "notifier_tls_reloads_total": "counter",
    "notifier_slow_consumer_closes_total": "counter",
    "notifier_auth_failures_total": "counter",
    "notifier_subscriptions": "gauge",
    "notifier_published_total": "counter",
    "notifier_last_seq": "gauge",
    "notifier_deliveries_total": "counter",
    "notifier_resyncs_total": "counter",
    "notifier_queued_bytes": "gauge",
    "notifier_fanout_backlog_bytes": "gauge",
    "notifier_shards": "gauge",
    "notifier_shard_sessions": "gauge",
    "notifier_pending_notifications": "gauge",
    "notifier_fanout_latency_seconds": "histogram",
    "notifier_flush_duration_seconds": "histogram",
    "notifier_publish_requests_total": "counter",
    "notifier_broker_up": "gauge",
    "notifier_source_up": "gauge",
    "notifier_source_changes_total": "counter",
    "notifier_source_errors_total": "counter",
    "notifier_source_lag_seconds": "gauge",
}

# A notifierd log line: UTC timestamp with milliseconds, then logfmt.
LOG_LINE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) event=[a-z_]+'
                      r'( [a-z_]+=("([^"\\]|\\.)*"|[^ "=\\]+))*')


class Scrape:
    def __init__(self, text: str):
        self.text = text
        self.families = parse_strict(text)

    def value(self, name: str, **labels) -> float:
        """The sample's value; 0 for a labelled series not reported yet."""
        samples = self.families[name]["samples"]
        key = tuple(sorted(labels.items()))
        if key not in samples and labels:
            return 0.0
        return samples[key]


class MetricsTest(ClientHelpers, unittest.IsolatedAsyncioTestCase):
    """A server per test: counters start from zero."""

    server_flags: tuple[str, ...] = ()

    async def asyncSetUp(self):
        self.server = NotifierServer(*self.server_flags).start()
        self.addCleanup(self._stop)

    def _stop(self) -> None:
        if self.server.running():
            self.server.stop()  # and asserts a clean exit

    async def scrape(self) -> Scrape:
        res = await self.http("GET", "/metrics")
        self.assertEqual(res.status, 200, res.body)
        self.assertEqual(res.header("content-type"), CONTENT_TYPE)
        self.assertEqual(res.header("cache-control"), "no-store")
        return Scrape(res.body.decode())

    async def assert_delta(self, before: Scrape, after: Scrape, expected: dict) -> None:
        """`expected` maps a name, or (name, label, value), to its change."""
        for key, delta in expected.items():
            name, labels = (key[0], {key[1]: key[2]}) if isinstance(key, tuple) else (key, {})
            got = after.value(name, **labels) - before.value(name, **labels)
            self.assertEqual(got, delta, f"{name}{labels}: {before.value(name, **labels)} -> {after.value(name, **labels)}")


class FormatTest(MetricsTest):
    async def test_output_is_valid_prometheus_text_with_every_family(self):
        ws, _ = await self.connect("collections=a")
        await self.publish(notification("a"))
        await recv_json(ws)
        s = await self.scrape()
        self.assertEqual({name: f["type"] for name, f in s.families.items()}, EXPECTED)
        for name, f in s.families.items():
            self.assertTrue(f["help"], name)
        self.assertEqual(s.value("notifier_broker_up"), 1)
        if text_string_to_metric_families is None:
            self.skipTest("python3-prometheus-client is not installed")
        parsed = {f.name: f for f in text_string_to_metric_families(s.text)}
        # The client library names counter families without "_total".
        for name, kind in EXPECTED.items():
            base = name[:-len("_total")] if kind == "counter" else name
            self.assertIn(base, parsed)
            self.assertEqual(parsed[base].type, kind)
        published = [x for x in parsed["notifier_published"].samples if x.name == "notifier_published_total"]
        self.assertEqual([x.value for x in published], [1.0])
        # The one notification reached its subscriber: timed once.
        timed = [x for x in parsed["notifier_fanout_latency_seconds"].samples
                 if x.name == "notifier_fanout_latency_seconds_count"]
        self.assertEqual([x.value for x in timed], [1.0])

    async def test_head_answers_headers_only_and_other_methods_405(self):
        res = await self.http("HEAD", "/metrics")
        self.assertEqual(res.status, 200)
        self.assertEqual(res.body, b"")
        self.assertEqual(res.header("content-type"), CONTENT_TYPE)
        self.assertGreater(int(res.header("content-length")), 1000)
        res = await self.http("POST", "/metrics", "x")
        self.assert_error_body(res, 405, "method_not_allowed")
        self.assertEqual(res.header("allow"), "GET, HEAD")


class CountersTest(MetricsTest):
    async def test_connect_subscribe_publish_close(self):
        s0 = await self.scrape()
        self.assertEqual(s0.value("notifier_websocket_sessions"), 0)
        self.assertEqual(s0.value("notifier_subscriptions"), 0)
        self.assertEqual(s0.value("notifier_last_seq"), 0)

        a, _ = await self.connect("collections=x,y")
        b, _ = await self.connect("collections=x")
        await b.send(json.dumps({"type": "subscribe", "collections": ["z"]}))
        self.assertEqual(no_seq(await recv_json(b)), {"type": "subscribed", "collections": ["x", "z"]})
        s1 = await self.scrape()
        await self.assert_delta(s0, s1, {
            "notifier_connections_accepted_total": 3,  # two WebSockets and this scrape
            "notifier_websocket_opened_total": 2,
            "notifier_websocket_sessions": 2,
            "notifier_subscriptions": 4,
            "notifier_published_total": 0,
        })
        self.assertEqual(s1.value("notifier_connections_open"), 3)

        n = 5
        seqs = await self.publish([notification("x", id=str(i)) for i in range(n)])
        for ws in (a, b):
            self.assertEqual([(await recv_json(ws))["seq"] for _ in range(n)], seqs)
        bad = await self.post(raw="{}")
        self.assertEqual(bad.status, 400)
        s2 = await self.scrape()
        await self.assert_delta(s1, s2, {
            "notifier_published_total": n,
            "notifier_deliveries_total": 2 * n,
            ("notifier_publish_requests_total", "code", "202"): 1,
            ("notifier_publish_requests_total", "code", "400"): 1,
            "notifier_connections_accepted_total": 3,
            "notifier_resyncs_total": 0,
            "notifier_slow_consumer_closes_total": 0,
        })
        self.assertEqual(s2.value("notifier_last_seq"), seqs[-1])

        await a.close()
        s3 = await self.scrape()
        await self.assert_delta(s2, s3, {
            ("notifier_websocket_closed_total", "code", "1000"): 1,
            "notifier_websocket_sessions": -1,
            "notifier_subscriptions": -2,
        })

        # A code the client picks from the application range is echoed but
        # counted as "other": clients cannot add series to /metrics.
        await b.close(code=4321)
        self.assertEqual(b.close_code, 4321)
        s4 = await self.scrape()
        await self.assert_delta(s3, s4, {
            ("notifier_websocket_closed_total", "code", "other"): 1,
            "notifier_websocket_sessions": -1,
        })
        self.assertNotIn((("code", "4321"),), s4.families["notifier_websocket_closed_total"]["samples"])

    async def test_publish_requests_by_status(self):
        s0 = await self.scrape()
        await self.publish(notification("x"))
        self.assertEqual((await self.post(raw="not json")).status, 400)
        self.assertEqual((await self.post(notification("x"), headers={"Content-Type": "text/plain"})).status, 415)
        self.assertEqual((await self.post(raw="[" + " " * (1 << 20) + "]")).status, 413)
        self.assertEqual((await self.http("GET", "/publish")).status, 405)  # not a POST: not counted
        s1 = await self.scrape()
        await self.assert_delta(s0, s1, {
            ("notifier_publish_requests_total", "code", "202"): 1,
            ("notifier_publish_requests_total", "code", "400"): 1,
            ("notifier_publish_requests_total", "code", "413"): 1,
            ("notifier_publish_requests_total", "code", "415"): 1,
            ("notifier_publish_requests_total", "code", "405"): 0,
        })
        self.assertEqual(set(s1.families["notifier_publish_requests_total"]["samples"]),
                         {(("code", c),) for c in ("202", "400", "413", "415")})

    async def test_resync_is_counted(self):
        s0 = await self.scrape()
        await self.publish(notification("x"))
        ws, welcome = await self.connect("since=0&epoch=not-the-epoch")
        self.assertIs(welcome["resumed"], False)
        self.assertEqual((await recv_json(ws))["type"], "resync")
        s1 = await self.scrape()
        await self.assert_delta(s0, s1, {"notifier_resyncs_total": 1, "notifier_deliveries_total": 0})

    async def test_replayed_notifications_count_as_deliveries(self):
        ws, welcome = await self.connect("collections=x")
        seqs = await self.publish([notification("x"), notification("other"), notification("x")])
        self.assertEqual([(await recv_json(ws))["seq"] for _ in range(2)], [seqs[0], seqs[2]])
        s0 = await self.scrape()
        resumed, w = await self.connect(f"collections=x&since={welcome['seq']}&epoch={welcome['epoch']}")
        self.assertIs(w["resumed"], True)
        self.assertEqual([(await recv_json(resumed))["seq"] for _ in range(2)], [seqs[0], seqs[2]])
        s1 = await self.scrape()
        await self.assert_delta(s0, s1, {"notifier_deliveries_total": 2, "notifier_published_total": 0,
                                         "notifier_resyncs_total": 0})


class SlowConsumerMetricsTest(MetricsTest):
    server_flags = ("--max-queue-bytes", "65536")

    async def test_slow_consumer_close_is_counted(self):
        stalled = self.raw("/ws?collections=big", rcvbuf=4096)
        s0 = await self.scrape()
        payload = "x" * 5000
        # Publish until the stalled client overflows: at most three times
        # what the kernel can buffer for it.
        limit = 3 * kernel_send_buffer_max() // 5000 + 1
        sent = 0
        while sent < limit:
            await self.publish([notification("big", data=payload) for _ in range(32)])
            sent += 32
            if (await self.scrape()).value("notifier_slow_consumer_closes_total") >= 1:
                break
        s1 = await self.scrape()
        await self.assert_delta(s0, s1, {"notifier_slow_consumer_closes_total": 1})
        self.assertGreater(s1.value("notifier_queued_bytes"), 0)  # the close frame waits for the stalled reader
        # Gone for good: the server ends the session on the reset.
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        stalled.close_socket()
        for _ in range(int(TIMEOUT / 0.02)):
            s2 = await self.scrape()
            if s2.value("notifier_websocket_sessions") == 0:
                break
            await asyncio.sleep(0.02)
        await self.assert_delta(s0, s2, {("notifier_websocket_closed_total", "code", "4008"): 1,
                                         "notifier_slow_consumer_closes_total": 1})
        self.assertEqual(s2.value("notifier_queued_bytes"), 0)


class LogTest(MetricsTest):
    async def test_notifierd_writes_structured_info_lines(self):
        ws, _ = await self.connect()
        await ws.close()
        port = self.server.port
        await asyncio.to_thread(self.server.stop)
        lines = [l for l in self.server.stderr().splitlines() if not l.startswith("notifierd: ")]
        for line in lines:
            self.assertTrue(LOG_LINE.fullmatch(line), line)
        events = [re.search(r" event=(\S+)", l).group(1) for l in lines]
        # Info by default: start and stop, no line per connection.
        self.assertEqual(events, ["listening", "stopping", "stopped"], lines)
        self.assertIn(f" level=info event=listening host=127.0.0.1 port={port} ", lines[0])


class DebugLogTest(MetricsTest):
    server_flags = ("--log-level", "debug")

    async def test_debug_level_logs_each_connection_event(self):
        ws, _ = await self.connect("collections=forums")
        await ws.close()
        await asyncio.to_thread(self.server.stop)
        lines = [l for l in self.server.stderr().splitlines() if not l.startswith("notifierd: ")]
        for line in lines:
            self.assertTrue(LOG_LINE.fullmatch(line), line)
        events = [re.search(r" event=(\S+)", l).group(1) for l in lines]
        self.assertIn("ws_open", events)
        self.assertIn("ws_close", events)
        self.assertLess(events.index("ws_open"), events.index("ws_close"))


class NoMetricsTest(MetricsTest):
    server_flags = ("--no-metrics",)

    async def test_metrics_can_be_turned_off(self):
        res = await self.http("GET", "/metrics")
        self.assertEqual(res.status, 404, res.body)


if __name__ == "__main__":
    unittest.main()
