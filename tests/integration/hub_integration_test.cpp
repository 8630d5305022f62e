// SPDX-License-Identifier: MIT
// The library end to end: the embedded notify() API and the HTTP API against
// real WebSocket clients on loopback.

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;
namespace json = boost::json;
using namespace notifier::test;

namespace {

std::uint64_t seq_of(const json::object& o) { return o.at("seq").to_number<std::uint64_t>(); }

namespace asio = boost::asio;

// A masked client frame (mask key 0, so the payload reads as is), < 126 bytes.
std::string client_frame(unsigned opcode, const std::string& payload) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    f.push_back(static_cast<char>(0x80 | payload.size()));
    f.append(4, '\0');
    return f + payload;
}

// Everything the server sends until it closes the connection.
std::string read_to_eof(asio::ip::tcp::socket& s) {
    std::string got;
    boost::system::error_code ec;
    char buf[4096];
    for (std::size_t n; (n = s.read_some(asio::buffer(buf), ec)), !ec;) got.append(buf, n);
    return got;
}

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

TEST(hub_integration, sse_streams_on_every_shard_get_the_websocket_text_of_each_notification_in_order) {
    notifier::options o;
    o.threads = 4;  // the streams land on different shards, which share each publication's event bytes
    test_server server(o);
    ws_client ws(server.port(), "/ws?collections=bench");
    ws.read_json();
    std::vector<std::unique_ptr<sse_client>> streams;
    std::string epoch;
    for (int i = 0; i < 8; ++i) {
        streams.push_back(std::make_unique<sse_client>(server.port(), "/sse?collections=bench"));
        const auto welcome = streams.back()->event();
        ASSERT_TRUE(welcome);
        EXPECT_EQ(streams.back()->status(), 200u);
        EXPECT_EQ(welcome->event, "welcome");
        epoch = json::parse(welcome->data).at("epoch").as_string().c_str();
    }
    constexpr int threads = 2, per_thread = 200;
    auto n = server.make_notifier();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                while (n.notify("bench", "tick", std::to_string(i), "{\"t\":" + std::to_string(t) + "}") ==
                       notifier::errc::overloaded)
                    std::this_thread::yield();
        });
    std::vector<std::string> texts;
    for (int i = 0; i < threads * per_thread; ++i) texts.push_back(*ws.read());
    for (auto& t : ts) t.join();
    for (auto& s : streams) {
        for (std::uint64_t seq = 1; seq <= threads * per_thread; ++seq) {
            const auto e = s->event();
            ASSERT_TRUE(e) << "stream ended at seq " << seq;
            ASSERT_EQ(e->event, "message");
            ASSERT_EQ(e->id, epoch + ":" + std::to_string(seq));
            ASSERT_EQ(e->data, texts[seq - 1]);
        }
    }
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

TEST(hub_integration, filtered_subscriptions_see_rows_enter_and_leave_across_shards) {
    test_server server;  // several shards: subscribers land on different ones
    ws_client seven(server.port(), "/ws?collections=posts%5Bforum_id%3D7%5D");
    ws_client eight(server.port(), "/ws?collections=posts%5Bforum_id%3D8%5D,forums");
    seven.read_json();
    eight.read_json();
    auto n = server.make_notifier();
    const auto post = [](const char* action, const char* id, std::optional<std::string> data,
                         std::optional<std::string> old) {
        return notifier::notification{.collection = "posts", .action = action, .id = id, .data = std::move(data),
                                      .old = std::move(old)};
    };
    ASSERT_FALSE(n.notify(post("create", "1", R"({"forum_id":7})", {})));                    // 1: seven
    ASSERT_FALSE(n.notify(post("update", "1", R"({"forum_id":8})", R"({"forum_id":7})")));  // 2: both
    ASSERT_FALSE(n.notify(post("delete", "1", {}, R"({"forum_id":8})")));                    // 3: eight
    ASSERT_FALSE(n.notify(post("update", "2", R"({"forum_id":9})", {})));                    // 4: none
    ASSERT_FALSE(n.notify(post("delete", "3", {}, {})));                                     // 5: both
    ASSERT_FALSE(n.notify("forums", "create", std::int64_t{1}));                              // 6: eight
    ASSERT_FALSE(n.notify(post("create", "4", R"({"forum_id":7.0})", {})));                  // 7: seven
    for (auto [client, expected] : {std::pair{&seven, std::vector<std::uint64_t>{1, 2, 5, 7}},
                                    std::pair{&eight, std::vector<std::uint64_t>{2, 3, 5, 6}}}) {
        std::vector<std::uint64_t> got;
        while (got.size() < expected.size()) got.push_back(seq_of(client->read_json()));
        EXPECT_EQ(got, expected);
    }
    // The answer to a subscribe says from when: everything its shard
    // dispatched so far (7, which this client received).
    seven.send(R"({"type":"subscribe","collections":["posts[pinned=true,forum_id=7.0]"]})");
    const auto sub = seven.read_json();
    EXPECT_EQ(sub.at("collections").as_array(),
              (json::array{"posts[forum_id=7,pinned=true]", "posts[forum_id=7]"}));
    EXPECT_EQ(sub.at("seq").to_number<std::uint64_t>(), 7u);
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
    auto [s2, b2] = http_get(server.port(), "/api/later");
    EXPECT_EQ(s2, 201u);
    EXPECT_EQ(b2, "done");
    // Declined: the built-in page and the 404 still answer.
    EXPECT_EQ(http_get(server.port(), "/").first, 200u);
    EXPECT_EQ(http_get(server.port(), "/nope").first, 404u);
    // The hub's own routes are not overridable.
    EXPECT_EQ(http_get(server.port(), "/healthz").first, 200u);
    for (auto& w : workers) w.join();
}

TEST(hub_integration, a_close_sent_with_the_upgrade_request_still_gets_101_and_welcome_first) {
    test_server server;
    asio::io_context ioc;
    asio::ip::tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    asio::write(s, asio::buffer(upgrade_request_text() + client_frame(0x8, std::string("\x03\xe8", 2))));
    const auto got = read_to_eof(s);
    ASSERT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got.substr(0, 40);
    const auto body = got.substr(got.find("\r\n\r\n") + 4);
    // The welcome (text frame), then the echo of the close: 0x88, length 2, 1000.
    ASSERT_GE(body.size(), 6u);
    EXPECT_EQ(static_cast<unsigned char>(body[0]), 0x81);
    EXPECT_NE(body.find("\"type\":\"welcome\""), std::string::npos);
    EXPECT_EQ(body.substr(body.size() - 4), std::string("\x88\x02\x03\xe8", 4));
}

TEST(hub_integration, a_client_that_closes_and_stops_reading_is_dropped_after_close_timeout) {
    notifier::options o;
    o.max_queue_bytes = 64 << 20;  // not a slow consumer: the close must end it
    o.close_timeout = 1s;
    o.ping_interval = 0s;
    test_server server(o);
    asio::io_context ioc;
    asio::ip::tcp::socket s(ioc);
    s.open(asio::ip::tcp::v4());
    s.set_option(asio::socket_base::receive_buffer_size(4096));
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    asio::write(s, asio::buffer(upgrade_request_text()));
    ASSERT_TRUE(eventually([&] { return server.get().stats().sessions == 1; }));
    auto n = server.make_notifier();
    const std::string data = "{\"pad\":\"" + std::string(5000, 'x') + "\"}";
    for (int i = 0; i < 2000; ++i) ASSERT_FALSE(n.notify("big", "create", std::int64_t{i}, data));  // ~10 MB
    ASSERT_TRUE(eventually([&] { return server.get().stats().deliveries >= 2000; }));
    // Its kernel buffers are full; it closes and never reads again.
    asio::write(s, asio::buffer(client_frame(0x8, std::string("\x03\xe8", 2))));
    EXPECT_TRUE(eventually([&] { return server.get().stats().sessions == 0; }, 10s));
}

TEST(hub_integration, thousands_of_names_in_one_subscribe_are_merged_or_refused_as_a_whole) {
    notifier::options o;
    o.max_subscriptions = 5000;
    test_server server(o);
    ws_client c(server.port(), "/ws?collections=m00002");
    c.read_json();
    auto names = [](int from, int count) {  // descending: each would go to the front
        std::string list;
        for (int i = from + count - 1; i >= from; --i) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "\"m%05d\"", i);
            list += (list.empty() ? "" : ",") + std::string(buf);
        }
        return list;
    };
    c.send(R"({"type":"subscribe","collections":[)" + names(0, 4999) + "]}");  // m00002 already there
    auto r = c.read_json();
    ASSERT_EQ(r.at("type"), "subscribed");
    const auto& set = r.at("collections").as_array();
    ASSERT_EQ(set.size(), 4999u);
    EXPECT_EQ(set.front(), "m00000");
    EXPECT_EQ(set.back(), "m04998");
    EXPECT_TRUE(std::is_sorted(set.begin(), set.end(),
                               [](const json::value& a, const json::value& b) { return a.as_string() < b.as_string(); }));
    c.send(R"({"type":"subscribe","collections":[)" + names(4999, 2) + "]}");  // one too many
    auto refused = c.read_json();
    EXPECT_EQ(refused.at("code"), "too_many_subscriptions");
    // Nothing of the refused frame was applied.
    auto n = server.make_notifier();
    ASSERT_FALSE(n.notify("m05000", "a"));
    ASSERT_FALSE(n.notify("m04998", "a"));
    EXPECT_EQ(c.read_json().at("collection"), "m04998");
}

TEST(hub_integration, confirmed_work_after_stop_is_answered_stopped_at_once) {
    test_server server;
    server.stop();
    int confirms = 0, resyncs = 0;
    std::error_code confirm_ec, resync_ec;
    std::vector<notifier::notification> batch(1);
    batch[0].collection = "c";
    batch[0].action = "a";
    server.get().submit_confirmed(std::move(batch), [&](std::error_code ec, std::uint64_t) {
        ++confirms;
        confirm_ec = ec;
    });
    server.get().resync([&](std::error_code ec) {
        ++resyncs;
        resync_ec = ec;
    });
    EXPECT_EQ(confirms, 1);
    EXPECT_EQ(confirm_ec, notifier::errc::stopped);
    EXPECT_EQ(resyncs, 1);
    EXPECT_EQ(resync_ec, notifier::errc::stopped);
}

TEST(hub_integration, an_application_route_that_throws_answers_500_and_the_hub_carries_on) {
    notifier::options o;
    o.app_routes = [](const notifier::http_request& req, notifier::http_responder respond) -> bool {
        if (req.path == "/api/throws") throw std::runtime_error("boom");
        if (req.path == "/api/bad-header") {
            // Beast refuses a header value this long: the answer cannot be built.
            respond({200, "text/plain", "x", {{"X-Long", std::string(70'000, 'v')}}});
            return true;
        }
        return false;
    };
    test_server server(o);
    auto [s1, b1] = http_get(server.port(), "/api/throws");
    EXPECT_EQ(s1, 500u);
    EXPECT_NE(b1.find("\"internal_error\""), std::string::npos) << b1;
    auto [s2, b2] = http_get(server.port(), "/api/bad-header");
    EXPECT_EQ(s2, 500u);
    EXPECT_NE(b2.find("\"internal_error\""), std::string::npos) << b2;
    EXPECT_EQ(http_get(server.port(), "/healthz").first, 200u);
}

TEST(hub_integration, listen_on_a_busy_port_throws_std_system_error_naming_the_address) {
    test_server busy;
    notifier::options o;
    o.listen_host = "127.0.0.1";
    o.listen_port = busy.port();
    notifier::hub h(o);
    try {
        h.listen();
        FAIL() << "listening on a port in use succeeded";
    } catch (const std::system_error& e) {  // what hub.hpp promises, not a Boost exception
        EXPECT_TRUE(e.code() == std::errc::address_in_use) << e.code().message();
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("cannot listen on 127.0.0.1:" + std::to_string(busy.port()) + ": ", 0), 0u) << what;
        EXPECT_EQ(what.find("boost"), std::string::npos) << what;  // no source location of the library
    }
    EXPECT_EQ(h.port(), 0u);
}

TEST(hub_integration, listen_host_may_be_a_name) {
    notifier::options o;
    o.listen_host = "localhost";
    o.listen_port = 0;
    notifier::hub h(o);
    h.start();
    ASSERT_NE(h.port(), 0u);
    // localhost resolves to loopback addresses only; whichever was bound, a
    // client resolving the same name reaches it.
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    asio::ip::tcp::socket s(ioc);
    boost::system::error_code ec;
    asio::connect(s, resolver.resolve("localhost", std::to_string(h.port()), ec), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(s.remote_endpoint(ec).address().is_loopback());
    s.close(ec);
    h.stop();
}
