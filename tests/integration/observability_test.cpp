// SPDX-License-Identifier: MIT
// Logs and metrics of a real hub with real clients: the lines a hub writes
// for each connection event (captured through options::log_sink), the
// warnings of a failing broker, and GET /metrics including change-source
// metrics registered through the hub. The Python suite checks /metrics
// against notifierd too (tests/integration/python/test_metrics.py).

#include "support/eventually.hpp"
#include "support/forwarding_broker.hpp"
#include "support/http_client.hpp"
#include "support/metrics.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace notifier::test;

namespace {

// Collects the hub's log lines; declared before the server so it outlives it.
class log_capture {
public:
    std::function<void(std::string_view)> sink() {
        return [this](std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
            cv_.notify_all();
        };
    }

    /// The first line containing every part, waiting up to 10 s; "" if none.
    std::string wait_for(std::initializer_list<std::string_view> parts) {
        std::unique_lock lock(mutex_);
        std::string found;
        cv_.wait_for(lock, 10s, [&] {
            for (const auto& l : lines_)
                if (std::all_of(parts.begin(), parts.end(), [&](auto p) { return l.find(p) != std::string::npos; })) {
                    found = l;
                    return true;
                }
            return false;
        });
        return found;
    }

    /// Waits for a line containing every part; a failure shows every line.
    void expect_line(std::initializer_list<std::string_view> parts) { EXPECT_NE(wait_for(parts), "") << all(); }

    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }

    std::string all() {
        std::string s;
        for (const auto& l : lines()) s += l + "\n";
        return s;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
};

notifier::options logged(log_capture& logs, notifier::log_level level = notifier::log_level::debug) {
    notifier::options o;
    o.log_level = level;
    o.log_sink = logs.sink();
    return o;
}

std::string scrape(std::uint16_t port) {
    auto [status, body] = scrape_metrics(port);
    EXPECT_EQ(status, 200u) << body;
    return body;
}


// Every line: a UTC timestamp with milliseconds, level, event, then logfmt
// pairs whose values are bare or quoted with escapes.
const std::regex line_format(
    R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(trace|debug|info|warn|error) event=[a-z_]+( [a-z_]+=("([^"\\]|\\.)*"|[^ "=\\]+))*$)");

void expect_well_formed(log_capture& logs) {
    for (const auto& l : logs.lines()) EXPECT_TRUE(std::regex_match(l, line_format)) << l;
}

// Upgrades by hand, then never reads, with a tiny receive window.
asio::ip::tcp::socket stalled_client(asio::io_context& ioc, std::uint16_t port, const std::string& target = "/ws") {
    asio::ip::tcp::socket s(ioc);
    s.open(asio::ip::tcp::v4());
    s.set_option(asio::socket_base::receive_buffer_size(4096));
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(upgrade_request_text(target)));
    return s;
}

// The in-memory broker, failing publish() while `fail` is set (available()
// stays true, so notify() accepts and the hub retries).
class flaky_broker final : public forwarding_broker {
public:
    flaky_broker(std::shared_ptr<std::atomic<bool>> fail) : fail_(std::move(fail)) {}
    void publish(std::span<const notifier::notification> batch, publish_handler done) override {
        if (fail_->load()) {
            if (done) done(notifier::errc::broker_unavailable, 0);
            return;
        }
        forwarding_broker::publish(batch, std::move(done));
    }

private:
    std::shared_ptr<std::atomic<bool>> fail_;
};

}  // namespace

TEST(observability, debug_log_has_a_line_per_connection_open_and_close) {
    log_capture logs;
    test_server server(logged(logs));
    {
        ws_client c(server.port(), "/ws?collections=a,b");
        c.read_json();
        const auto open = logs.wait_for({"event=ws_open"});
        EXPECT_TRUE(std::regex_match(
            open, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=debug event=ws_open session=1 remote=127\.0\.0\.1:\d+ subscriptions=2 resume=false$)")))
            << open;
        c.close(1000);
    }
    logs.expect_line({" level=debug event=ws_close session=1 code=1000 reason=\"\" by=client"});
    {
        // Gone without a close handshake: 1006.
        ws_client c(server.port());
        c.read_json();
    }
    logs.expect_line({"event=ws_close session=2 code=1006 reason=\"connection ended\" by=none"});

    expect_metrics(server.port(), {{"notifier_websocket_opened_total", 2},
                                   {"notifier_websocket_closed_total{code=\"1000\"}", 1},
                                   {"notifier_websocket_closed_total{code=\"1006\"}", 1},
                                   {"notifier_websocket_sessions", 0}});

    logs.expect_line({" level=info event=listening host=127.0.0.1 port="});
    server.stop();
    logs.expect_line({" level=info event=stopping sessions=0"});
    logs.expect_line({" level=info event=stopped"});
    expect_well_formed(logs);
}

TEST(observability, info_level_logs_start_and_stop_but_no_connection_events) {
    log_capture logs;
    test_server server(logged(logs, notifier::log_level::info));
    {
        ws_client c(server.port());
        c.read_json();
        c.close(1000);
    }
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 0; }));
    server.stop();
    ASSERT_NE(logs.wait_for({"event=stopped"}), "");
    for (const auto& l : logs.lines()) EXPECT_EQ(l.find("level=debug"), std::string::npos) << l;
    EXPECT_NE(logs.wait_for({"event=listening"}), "");
    expect_well_formed(logs);
}

TEST(observability, slow_consumer_is_logged_counted_and_closed_4008) {
    log_capture logs;
    auto o = logged(logs);
    o.max_queue_bytes = 64 * 1024;
    o.close_timeout = 1s;  // the stalled client never answers the close
    test_server server(o);
    asio::io_context ioc;
    auto stalled = stalled_client(ioc, server.port());
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 1; }));

    // Publish until the stalled client's kernel buffers and queue overflow.
    auto n = server.make_notifier();
    const std::string data = "{\"pad\":\"" + std::string(5000, 'x') + "\"}";
    for (int i = 0; i < 20'000 && server.get().stats().slow_consumers == 0; ++i) {
        while (n.notify("big", "create", std::int64_t{i}, data) == notifier::errc::overloaded) std::this_thread::yield();
    }
    ASSERT_TRUE(eventually([&] { return server.get().stats().slow_consumers == 1; }));
    const auto slow = logs.wait_for({" level=debug event=slow_consumer session=1 queued_bytes="});
    EXPECT_NE(slow.find(" limit=65536"), std::string::npos) << slow;
    logs.expect_line({"event=ws_close session=1 code=4008 reason=\"slow consumer\" by=server"});
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 0; }));
    expect_metrics(server.port(), {{"notifier_slow_consumer_closes_total", 1},
                                   {"notifier_websocket_closed_total{code=\"4008\"}", 1}});
    expect_well_formed(logs);
}

TEST(observability, resync_is_logged_and_counted) {
    log_capture logs;
    test_server server(logged(logs));
    ws_client c(server.port(), "/ws?since=5&epoch=not-this-one");
    EXPECT_EQ(c.read_json().at("resumed"), false);
    EXPECT_EQ(c.read_json().at("type"), "resync");
    logs.expect_line({" level=debug event=resync session=1 epoch=", " seq=0"});
    logs.expect_line({"event=ws_open session=1 ", " resume=true"});
    EXPECT_EQ(server.get().stats().resyncs, 1u);
    EXPECT_EQ(metric_sample(scrape(server.port()), "notifier_resyncs_total"), 1);
}

TEST(observability, auth_failures_are_logged_and_counted) {
    log_capture logs;
    auto o = logged(logs);
    o.jwt_secret = "a secret of at least thirty-two bytes";
    o.publish_keys = {"publish-key-0123456789"};
    test_server server(o);
    {
        // Refused after the upgrade: the error frame, then 4401.
        ws_client c(server.port(), "/ws?token=not.a.token");
        const auto err = c.read_json();
        EXPECT_EQ(err.at("code"), "invalid_token");
        EXPECT_FALSE(c.read());
        EXPECT_EQ(c.close_code(), 4401);
    }
    logs.expect_line({" level=info event=auth_failure remote=127.0.0.1 stage=handshake code=invalid_token message="});
    auto [status, body] = http_post(server.port(), "/publish", R"({"collection":"a","action":"x"})");
    EXPECT_EQ(status, 401u) << body;
    logs.expect_line({" level=info event=auth_failure remote=127.0.0.1 stage=publish code=unauthorized"});
    expect_metrics(server.port(), {{"notifier_auth_failures_total", 2},
                                   {"notifier_publish_requests_total{code=\"401\"}", 1},
                                   {"notifier_websocket_opened_total", 0}});
    EXPECT_EQ(logs.all().find("not.a.token"), std::string::npos) << "a token in the logs";
    expect_well_formed(logs);
}

TEST(observability, failed_publish_is_a_warning_and_is_retried) {
    log_capture logs;
    auto fail = std::make_shared<std::atomic<bool>>(true);
    auto o = logged(logs, notifier::log_level::warn);
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    notifier::hub hub(o, [fail](asio::io_context&) { return std::make_unique<flaky_broker>(fail); });
    hub.start();
    ws_client c(hub.port());
    c.read_json();
    notifier::notifier n(hub);
    ASSERT_FALSE(n.notify("a", "x"));
    const auto warn = logs.wait_for({" level=warn event=publish_failed error=", " retrying=1"});
    EXPECT_TRUE(std::regex_match(warn, line_format)) << warn;
    fail->store(false);
    EXPECT_EQ(c.read_json().at("seq"), 1);
    c.close();
    hub.stop();
    for (const auto& l : logs.lines()) EXPECT_NE(l.find(" level=warn "), std::string::npos) << l;
}

TEST(observability, metrics_count_connections_publications_and_deliveries) {
    test_server server;
    ws_client a(server.port(), "/ws?collections=x,y,z");
    ws_client b(server.port(), "/ws?collections=x");
    a.read_json();
    b.read_json();
    for (int i = 0; i < 3; ++i) {
        auto [status, body] = http_post(server.port(), "/publish", R"({"collection":"x","action":"a"})");
        EXPECT_EQ(status, 202u) << body;
    }
    EXPECT_EQ(http_post(server.port(), "/publish", R"({"collection":"y"})").first, 400u);
    for (int i = 0; i < 3; ++i) {
        a.read_json();
        b.read_json();
    }
    const auto m = scrape(server.port());
    EXPECT_EQ(metric_sample(m, "notifier_websocket_sessions"), 2);
    EXPECT_EQ(metric_sample(m, "notifier_subscriptions"), 4);
    EXPECT_EQ(metric_sample(m, "notifier_published_total"), 3);
    EXPECT_EQ(metric_sample(m, "notifier_last_seq"), 3);
    EXPECT_EQ(metric_sample(m, "notifier_deliveries_total"), 6);
    EXPECT_EQ(metric_sample(m, "notifier_publish_requests_total{code=\"202\"}"), 3);
    EXPECT_EQ(metric_sample(m, "notifier_publish_requests_total{code=\"400\"}"), 1);
    EXPECT_EQ(metric_sample(m, "notifier_broker_up"), 1);
    // 2 WebSockets, 4 POSTs and this scrape.
    EXPECT_EQ(metric_sample(m, "notifier_connections_accepted_total"), 7);
    EXPECT_EQ(server.get().stats().deliveries, 6u);
    EXPECT_EQ(server.get().stats().connections_accepted, 7u);
}

TEST(observability, fanout_latency_and_flush_duration_are_histograms) {
    test_server server;
    ws_client a(server.port(), "/ws?collections=x");
    a.read_json();
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(http_post(server.port(), "/publish", R"({"collection":"x","action":"a"})").first, 202u);
    // No subscriber: nothing is written, so nothing is timed.
    EXPECT_EQ(http_post(server.port(), "/publish", R"({"collection":"nobody","action":"a"})").first, 202u);
    for (int i = 0; i < 4; ++i) a.read_json();
    const auto m = scrape(server.port());
    EXPECT_NE(m.find("# TYPE notifier_fanout_latency_seconds histogram\n"), std::string::npos) << m;
    EXPECT_NE(m.find("# TYPE notifier_flush_duration_seconds histogram\n"), std::string::npos) << m;
    EXPECT_EQ(metric_sample(m, "notifier_fanout_latency_seconds_count"), 4);
    EXPECT_GT(metric_sample(m, "notifier_fanout_latency_seconds_sum"), 0);
    EXPECT_GE(metric_sample(m, "notifier_flush_duration_seconds_count"), 1);  // the welcome's and the publications'
    for (const std::string name : {"notifier_fanout_latency_seconds", "notifier_flush_duration_seconds"}) {
        // Cumulative buckets: never decreasing, ending at +Inf with the count.
        std::istringstream in(m);
        double last = 0;
        int buckets = 0;
        for (std::string line; std::getline(in, line);) {
            if (line.rfind(name + "_bucket{le=", 0) != 0) continue;
            const double v = std::stod(line.substr(line.rfind(' ') + 1));
            EXPECT_GE(v, last) << line;
            last = v;
            ++buckets;
        }
        EXPECT_EQ(buckets, 15) << name;
        EXPECT_EQ(metric_sample(m, name + "_bucket{le=\"+Inf\"}"), metric_sample(m, name + "_count")) << name;
        EXPECT_EQ(last, metric_sample(m, name + "_count")) << name;
    }
}

TEST(observability, connections_refused_at_the_limit_are_counted) {
    notifier::options o;
    o.max_connections = 1;
    test_server server(o);
    ws_client a(server.port());
    a.read_json();
    EXPECT_THROW(ws_client(server.port()), std::exception);  // 503 instead of 101
    ASSERT_TRUE(eventually([&] { return server.get().stats().connections_rejected == 1; }));
    a.close();
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 0; }));
    const auto m = scrape(server.port());
    EXPECT_EQ(metric_sample(m, "notifier_connections_rejected_total"), 1);
    EXPECT_EQ(metric_sample(m, "notifier_connections_open"), 1);  // the scrape itself
}

TEST(observability, source_metrics_are_reported_while_registered) {
    notifier::metrics_registration outlives_the_hub;
    test_server server;
    std::atomic<std::uint64_t> changes{41};
    auto reg = server.get().add_source_metrics("sqlite:forum \"main\".db", [&] {
        return notifier::source_metrics{true, changes.load(), 2, 0.25};
    });
    auto other = server.get().add_source_metrics("postgres", [] { return notifier::source_metrics{}; });
    ++changes;
    auto m = scrape(server.port());
    const std::string label = R"({source="sqlite:forum \"main\".db"})";
    EXPECT_EQ(metric_sample(m, "notifier_source_up" + label), 1);
    EXPECT_EQ(metric_sample(m, "notifier_source_changes_total" + label), 42);
    EXPECT_EQ(metric_sample(m, "notifier_source_errors_total" + label), 2);
    EXPECT_EQ(metric_sample(m, "notifier_source_lag_seconds" + label), 0.25);
    EXPECT_EQ(metric_sample(m, "notifier_source_up{source=\"postgres\"}"), 0);

    EXPECT_THROW((void)server.get().add_source_metrics("postgres", [] { return notifier::source_metrics{}; }),
                 std::invalid_argument);
    EXPECT_THROW((void)server.get().add_source_metrics("", [] { return notifier::source_metrics{}; }),
                 std::invalid_argument);
    EXPECT_THROW((void)server.get().add_source_metrics("x", nullptr), std::invalid_argument);

    reg.reset();
    m = scrape(server.port());
    EXPECT_EQ(metric_sample(m, "notifier_source_up" + label), -1);
    EXPECT_EQ(metric_sample(m, "notifier_source_up{source=\"postgres\"}"), 0);
    outlives_the_hub = server.get().add_source_metrics("late", [] { return notifier::source_metrics{}; });
    EXPECT_TRUE(outlives_the_hub);
}

TEST(observability, metrics_can_be_turned_off) {
    notifier::options o;
    o.metrics = false;
    test_server server(o);
    auto [status, body] = scrape_metrics(server.port());
    EXPECT_EQ(status, 404u) << body;
}

TEST(observability, metrics_answer_only_get_and_head) {
    test_server server;
    EXPECT_EQ(http_call(server.port(), http::verb::post, "/metrics", "{}").first, 405u);
}
