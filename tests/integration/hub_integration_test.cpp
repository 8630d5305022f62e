// The library end to end: the embedded notify() API and the HTTP API against
// real WebSocket clients on loopback.

#include "support/eventually.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
namespace json = boost::json;
using notifier::test::eventually;
using notifier::test::http_post;
using notifier::test::test_server;
using notifier::test::ws_client;

namespace {

std::uint64_t seq_of(const json::object& o) { return o.at("seq").to_number<std::uint64_t>(); }

}  // namespace

TEST(hub_integration, embedded_notify_reaches_client_with_exact_json) {
    test_server server;
    ws_client c(server.port());
    auto welcome = c.read_json();
    EXPECT_EQ(welcome.at("type"), "welcome");
    EXPECT_EQ(welcome.at("resumed"), false);
    auto n = server.make_notifier();
    ASSERT_FALSE(n.notify("forums", "create", std::int64_t{7}, R"({"name":"x"})"));
    auto m = c.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, R"({"seq":1,"collection":"forums","action":"create","id":"7","data":{"name":"x"}})");
    ASSERT_FALSE(n.notify("forums", "delete"));
    EXPECT_EQ(*c.read(), R"({"seq":2,"collection":"forums","action":"delete"})");
}

TEST(hub_integration, notify_from_many_threads_keeps_per_thread_order_and_consecutive_seqs) {
    test_server server;
    ws_client c(server.port());
    c.read_json();
    constexpr int threads = 4, per_thread = 2000;
    auto n = server.make_notifier();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const std::string data = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
                while (n.notify("bench", "tick", std::nullopt, data) == notifier::errc::overloaded) std::this_thread::yield();
            }
        });
    std::vector<int> next(threads, 0);
    for (std::uint64_t expect = 1; expect <= threads * per_thread; ++expect) {
        auto o = c.read_json();
        ASSERT_EQ(seq_of(o), expect);
        const auto& d = o.at("data").as_object();
        const int t = static_cast<int>(d.at("t").as_int64());
        ASSERT_EQ(d.at("i").as_int64(), next[t]++);
    }
    for (auto& t : ts) t.join();
}

TEST(hub_integration, transaction_emits_only_on_commit_with_consecutive_seqs) {
    test_server server;
    ws_client c(server.port());
    c.read_json();
    auto n = server.make_notifier();
    {
        notifier::transaction discarded(n);
        ASSERT_FALSE(discarded.notify("forums", "create", std::int64_t{1}));
    }  // destroyed uncommitted
    {
        notifier::transaction rolled_back(n);
        ASSERT_FALSE(rolled_back.notify("forums", "create", std::int64_t{2}));
        rolled_back.rollback();
        EXPECT_EQ(rolled_back.commit(), notifier::errc::already_finished);
    }
    notifier::transaction tx(n);
    for (int i = 10; i < 13; ++i) ASSERT_FALSE(tx.notify("posts", "create", std::int64_t{i}));
    ASSERT_FALSE(tx.commit());
    for (int i = 10; i < 13; ++i) {
        auto o = c.read_json();
        EXPECT_EQ(seq_of(o), static_cast<std::uint64_t>(i - 9));
        EXPECT_EQ(o.at("id").as_string(), std::to_string(i));
    }
}

TEST(hub_integration, resume_while_publishing_has_no_gap_and_no_duplicate) {
    test_server server;
    auto n = server.make_notifier();
    constexpr std::uint64_t total = 6000;
    std::string epoch;
    std::uint64_t cursor = 0;
    std::atomic<bool> go{false};
    std::thread publisher([&] {
        while (!go) std::this_thread::yield();
        for (std::uint64_t i = 0; i < total; ++i)
            while (n.notify("items", "update", static_cast<std::int64_t>(i)) == notifier::errc::overloaded)
                std::this_thread::yield();
    });
    {
        ws_client first(server.port());
        auto w = first.read_json();
        epoch = std::string(w.at("epoch").as_string());
        cursor = seq_of(w);
        go = true;
        while (cursor < 500) {
            auto o = first.read_json();
            ASSERT_EQ(seq_of(o), cursor + 1);
            cursor = seq_of(o);
        }
    }  // disconnect mid-stream while the publisher keeps going
    ws_client again(server.port(), "/ws?since=" + std::to_string(cursor) + "&epoch=" + epoch);
    auto w = again.read_json();
    EXPECT_EQ(w.at("type"), "welcome");
    EXPECT_EQ(w.at("resumed"), true);
    while (cursor < total) {
        auto o = again.read_json();
        ASSERT_FALSE(o.contains("type")) << json::serialize(o);
        ASSERT_EQ(seq_of(o), cursor + 1);
        cursor = seq_of(o);
    }
    publisher.join();
}

TEST(hub_integration, record_subscription_filters_on_the_server) {
    test_server server;
    ws_client c(server.port(), "/ws?collections=posts/7");
    c.read_json();
    auto n = server.make_notifier();
    ASSERT_FALSE(n.notify("posts", "update", std::int64_t{8}));
    ASSERT_FALSE(n.notify("forums", "update", std::int64_t{7}));
    ASSERT_FALSE(n.notify("posts", "update", std::int64_t{7}));
    auto o = c.read_json();
    EXPECT_EQ(seq_of(o), 3u);
    EXPECT_EQ(o.at("id"), "7");
}

TEST(hub_integration, slow_consumer_is_closed_and_others_get_everything) {
    notifier::options o;
    o.max_queue_bytes = 64 * 1024;
    test_server server(o);
    namespace asio = boost::asio;
    // A client that upgrades, then never reads, with a tiny receive window.
    asio::io_context ioc;
    asio::ip::tcp::socket stalled(ioc);
    stalled.open(asio::ip::tcp::v4());
    stalled.set_option(asio::socket_base::receive_buffer_size(4096));
    stalled.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    const std::string req = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(stalled, asio::buffer(req));
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 1; }));

    ws_client reader(server.port());
    reader.read_json();
    const std::string data = "{\"pad\":\"" + std::string(5000, 'x') + "\"}";
    constexpr int count = 2000;  // ~10 MB: far more than the stalled client's kernel buffers hold
    // The reader keeps up: the publisher stays at most 8 notifications
    // (40 KB, under the 64 KiB queue) ahead of it. The stalled client falls
    // behind by everything.
    std::atomic<int> received{0};
    std::thread publisher([&] {
        auto n = server.make_notifier();
        for (int i = 0; i < count; ++i) {
            while (i - received.load() > 8) std::this_thread::yield();
            ASSERT_FALSE(n.notify("big", "create", std::int64_t{i}, data));
        }
    });
    int got = 0;
    for (int i = 1; i <= count; ++i) {
        auto m = reader.read();
        if (!m) {
            ADD_FAILURE() << "reader lost the stream after " << got << " (close " << reader.close_code() << ")";
            received = count;  // release the publisher
            break;
        }
        EXPECT_EQ(seq_of(json::parse(*m).as_object()), static_cast<std::uint64_t>(i));
        received = ++got;
    }
    publisher.join();
    EXPECT_EQ(server.get().stats().slow_consumers, 1u);
    EXPECT_TRUE(eventually([&] { return server.get().stats().sessions == 1; }));
}

TEST(hub_integration, http_publish_returns_seqs_and_delivers_in_order) {
    test_server server;
    ws_client c(server.port());
    c.read_json();
    auto [status, body] = http_post(server.port(), "/publish",
                                    R"([{"collection":"a","action":"x"},{"collection":"b","action":"y","id":5}])");
    EXPECT_EQ(status, 202u);
    EXPECT_EQ(body, R"({"seqs":[1,2]})");
    EXPECT_EQ(*c.read(), R"({"seq":1,"collection":"a","action":"x"})");
    EXPECT_EQ(*c.read(), R"({"seq":2,"collection":"b","action":"y","id":"5"})");
    auto [s2, b2] = http_post(server.port(), "/publish", R"({"collection":"a"})");
    EXPECT_EQ(s2, 400u);
    EXPECT_NE(b2.find("invalid_notification"), std::string::npos);
    auto [s3, b3] = http_post(server.port(), "/publish", R"({"collection":"a","action":"x"})", "text/plain");
    EXPECT_EQ(s3, 415u);
}

TEST(hub_integration, many_clients_each_get_every_notification) {
    test_server server;
    constexpr int clients = 100, count = 50;
    std::vector<std::unique_ptr<ws_client>> cs;
    for (int i = 0; i < clients; ++i) {
        cs.push_back(std::make_unique<ws_client>(server.port()));
        cs.back()->read_json();
    }
    auto n = server.make_notifier();
    for (int i = 0; i < count; ++i) ASSERT_FALSE(n.notify("c", "a", std::int64_t{i}));
    for (auto& c : cs)
        for (int i = 1; i <= count; ++i) ASSERT_EQ(seq_of(c->read_json()), static_cast<std::uint64_t>(i));
}

TEST(hub_integration, stop_closes_every_session_with_1001) {
    test_server server;
    ws_client a(server.port()), b(server.port());
    a.read_json();
    b.read_json();
    // stop() waits for the sessions to close, which needs the clients to
    // answer the close frames: stop from another thread.
    std::thread stopper([&] { server.stop(); });
    EXPECT_FALSE(a.read());
    EXPECT_TRUE(a.closed_by_peer());
    EXPECT_EQ(a.close_code(), 1001);
    EXPECT_EQ(a.close_reason(), "server shutdown");
    EXPECT_FALSE(b.read());
    EXPECT_EQ(b.close_code(), 1001);
    stopper.join();
    EXPECT_EQ(server.make_notifier().notify("x", "y"), notifier::errc::stopped);
}

TEST(hub_integration, app_routes_answer_next_to_the_hub_even_from_another_thread) {
    notifier::options o;
    std::vector<std::thread> workers;
    std::mutex m;
    o.app_routes = [&](const notifier::http_request& req, notifier::http_responder respond) {
        if (req.path == "/api/echo") {
            respond({200, "application/json", "{\"method\":\"" + req.method + "\",\"body\":" + req.body + "}", {}});
            return true;
        }
        if (req.path == "/api/later") {
            std::lock_guard lock(m);
            workers.emplace_back([respond] { respond({201, "text/plain", "done", {{"X-Test", "1"}}}); });
            return true;
        }
        return false;
    };
    test_server server(o);
    auto [s1, b1] = http_post(server.port(), "/api/echo", "[1,2]");
    EXPECT_EQ(s1, 200u);
    EXPECT_EQ(b1, R"({"method":"POST","body":[1,2]})");
    auto [s2, b2] = notifier::test::http_call(server.port(), boost::beast::http::verb::get, "/api/later");
    EXPECT_EQ(s2, 201u);
    EXPECT_EQ(b2, "done");
    // Declined: the built-in page and the 404 still answer.
    EXPECT_EQ(notifier::test::http_call(server.port(), boost::beast::http::verb::get, "/").first, 200u);
    EXPECT_EQ(notifier::test::http_call(server.port(), boost::beast::http::verb::get, "/nope").first, 404u);
    // The hub's own routes are not overridable.
    EXPECT_EQ(notifier::test::http_call(server.port(), boost::beast::http::verb::get, "/healthz").first, 200u);
    for (auto& w : workers) w.join();
}
