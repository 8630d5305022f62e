// SPDX-License-Identifier: MIT
// A hub of several shards under concurrent load: notify() and POST /publish
// from several threads while clients connect, read, resume (landing on any
// shard) and change subscriptions. Every logical client must end with exactly
// the notifications its subscriptions matched, in seq order, each once, as
// the same bytes every other recipient got (docs/protocol.md, "The delivery
// guarantee"). Also: the acceptor's balance over shards, stop() on every
// shard, and a hub of one thread.
//
// NOTIFIER_STRESS_SCALE (percent, default 100) scales the stress test's
// counts, e.g. 30 under a slow sanitizer.

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/metrics.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <latch>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace json = boost::json;
using namespace notifier::test;

namespace {

// No wait below is a pause: each is for a frame, and this only bounds how
// long a missing one may take to fail the test (generous for sanitizers).
constexpr auto frame_timeout = 30s;

std::uint64_t seq_of(const json::object& o) { return o.at("seq").to_number<std::uint64_t>(); }

int stress_scale_percent() {
    const char* s = std::getenv("NOTIFIER_STRESS_SCALE");
    if (!s) return 100;
    const int v = std::atoi(s);
    return v > 0 ? v : 100;
}

int scaled(int n) { return std::max(1, n * stress_scale_percent() / 100); }

// "" (no collections parameter: implicit *) and "*" match everything;
// otherwise a comma-separated list of collection names.
bool subscribed_to(const std::string& collections, std::string_view collection) {
    if (collections.empty() || collections == "*") return true;
    std::size_t from = 0;
    for (;;) {
        const auto comma = collections.find(',', from);
        const auto entry = std::string_view(collections).substr(from, comma - from);
        if (entry == collection) return true;
        if (comma == std::string::npos) return false;
        from = comma + 1;
    }
}

// What one logical client saw over its connection and its resumes.
struct chain {
    std::string collections;  // the query's value for its whole life ("": parameter absent)
    int reconnects = 0;       // resumes it makes before it just reads to the end
    std::string epoch;
    std::uint64_t first_welcome = 0;  // seq of its first welcome: it must get every match after it
    std::map<std::uint64_t, std::string> got;  // seq -> the frame as received
    std::uint64_t end_seq = 0;                 // seq of the end marker, once seen
    int connections = 0;
};

// How far the observer (which gets everything) has read: lets a client
// open its first connection mid-stream on an event rather than a pause.
class progress {
public:
    void advance(std::uint64_t seq, bool end) {
        std::lock_guard lock(mutex_);
        seq_ = seq;
        ended_ = end;
        cv_.notify_all();
    }
    /// True once the observer read `seq`; false if the stream ended first or
    /// the wait timed out.
    bool wait_for(std::uint64_t seq) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, frame_timeout, [&] { return seq_ >= seq || ended_; });
        return seq_ >= seq;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::uint64_t seq_ = 0;
    bool ended_ = false;
};

// Runs one logical client until it reads the end marker (action "end" on
// collection "a", which every chain subscribes to): reads a random number of
// notifications, then drops the connection (a close handshake or just the
// TCP connection) and resumes from its cursor, `c.reconnects` times.
// Checks as it goes; the caller checks completeness afterwards.
void run_chain(std::uint16_t port, chain& c, unsigned seed) {
    std::mt19937 rng(seed);
    const std::string base = c.collections.empty() ? "/ws" : "/ws?collections=" + c.collections;
    const char* sep = c.collections.empty() ? "?" : "&";
    std::uint64_t cursor = 0;
    for (int left = c.reconnects;; --left) {
        const bool first = c.connections == 0;
        const std::string target =
            first ? base : base + sep + "since=" + std::to_string(cursor) + "&epoch=" + c.epoch;
        ws_client ws(port, target);
        ++c.connections;
        const auto w = ws.read_json(frame_timeout);
        ASSERT_EQ(w.at("type"), "welcome") << json::serialize(w);
        if (first) {
            ASSERT_EQ(w.at("resumed"), false);
            c.epoch = std::string(w.at("epoch").as_string());
            c.first_welcome = cursor = seq_of(w);
        } else {
            // The history holds everything this test publishes: every resume succeeds.
            ASSERT_EQ(w.at("resumed"), true) << target << " " << json::serialize(w);
            ASSERT_EQ(std::string(w.at("epoch").as_string()), c.epoch);
            ASSERT_GE(seq_of(w), cursor);
        }
        // Reconnect after this many notifications (0: right after the welcome).
        long budget = left > 0 ? static_cast<long>(rng() % 400) : -1;
        while (budget != 0) {
            const auto m = ws.read(frame_timeout);
            ASSERT_TRUE(m) << "connection " << c.connections << " of ?collections=" << c.collections
                           << " ended after seq " << cursor << (ws.timed_out() ? " (timeout)" : "") << ", close "
                           << ws.close_code();
            const auto o = json::parse(*m).as_object();
            ASSERT_FALSE(o.contains("type")) << *m;  // no resync, no error
            const auto seq = seq_of(o);
            ASSERT_GT(seq, cursor) << "out of order or duplicate on connection " << c.connections << " of ?collections="
                                   << c.collections << ": " << *m;
            ASSERT_TRUE(subscribed_to(c.collections, o.at("collection").as_string()))
                << "?collections=" << c.collections << " got " << *m;
            c.got.emplace(seq, *m);
            cursor = seq;
            if (o.at("action") == "end") {
                c.end_seq = seq;
                ws.close();
                return;
            }
            if (budget > 0) --budget;
        }
        if (rng() % 2) ws.close();  // else the destructor just drops the TCP connection
    }
}

// A client on "a" that adds and removes other collections with subscribe and
// unsubscribe frames while notifications flow. Until the `subscribed` answer
// either set may apply; after it, only the new one. Seqs always increase.
// `ready` runs once it is connected (before publishing starts, so that the
// script surely finishes before the end marker).
void run_toggler(std::uint16_t port, unsigned seed, const std::function<void()>& ready) {
    struct step {
        const char* frame;
        std::set<std::string> after;
    };
    const std::vector<step> script = {
        {R"({"type":"subscribe","collections":["b"]})", {"a", "b"}},
        {R"({"type":"unsubscribe","collections":["b"]})", {"a"}},
        {R"({"type":"subscribe","collections":["c","d"]})", {"a", "c", "d"}},
        {R"({"type":"unsubscribe","collections":["d","x"]})", {"a", "c"}},
        {R"({"type":"subscribe","collections":["b"]})", {"a", "b", "c"}},
        {R"({"type":"unsubscribe","collections":["b","c"]})", {"a"}},
    };
    std::mt19937 rng(seed);
    ws_client ws(port, "/ws?collections=a");
    auto w = ws.read_json(frame_timeout);
    ASSERT_EQ(w.at("type"), "welcome");
    ready();
    std::uint64_t last = seq_of(w);
    std::set<std::string> current{"a"}, allowed{"a"};
    std::size_t next_step = 0;
    bool pending = false;
    long until_next = static_cast<long>(rng() % 60);
    for (;;) {
        if (!pending && next_step < script.size() && until_next-- <= 0) {
            ws.send(script[next_step].frame);
            pending = true;
            allowed = current;
            allowed.insert(script[next_step].after.begin(), script[next_step].after.end());
            until_next = static_cast<long>(rng() % 60);
        }
        const auto m = ws.read(frame_timeout);
        ASSERT_TRUE(m) << "toggler lost its connection after seq " << last;
        const auto o = json::parse(*m).as_object();
        if (o.contains("type")) {
            ASSERT_EQ(o.at("type"), "subscribed") << *m;
            ASSERT_TRUE(pending) << *m;
            std::set<std::string> got;
            for (const auto& e : o.at("collections").as_array()) got.emplace(e.as_string());
            ASSERT_EQ(got, script[next_step].after) << *m;
            current = allowed = got;
            pending = false;
            ++next_step;
            continue;
        }
        const auto seq = seq_of(o);
        ASSERT_GT(seq, last) << *m;
        last = seq;
        ASSERT_TRUE(allowed.contains(std::string(o.at("collection").as_string())))
            << "subscribed to " << json::serialize(json::value_from(current)) << ", got " << *m;
        if (o.at("action") == "end") {
            EXPECT_EQ(next_step, script.size()) << "the toggler ran out of notifications before its script";
            ws.close();
            return;
        }
    }
}

// Runs `f` on a thread, turning an exception (a missing frame) into a failure.
// Joined when destroyed: a failed assertion leaves no thread running.
std::jthread guarded(std::function<void()> f) {
    return std::jthread([f = std::move(f)] {
        try {
            f();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "thread ended by: " << e.what();
        }
    });
}

// The JSON array body of one POST /publish and the collections it names.
struct post_batch {
    std::string body;
    std::vector<std::string> collections;
};

post_batch make_batch(int publisher, int request) {
    static const char* const names[] = {"a", "b", "c", "d"};
    post_batch b;
    b.body = "[";
    const int size = 1 + request % 3;
    for (int j = 0; j < size; ++j) {
        const std::string coll = names[(publisher + request + j) % 4];
        if (j) b.body += ',';
        b.body += R"({"collection":")" + coll + R"(","action":"post","id":"p)" + std::to_string(publisher) + "-" +
                  std::to_string(request) + "-" + std::to_string(j) + R"(","data":{"n":)" + std::to_string(request) +
                  "}}";
        b.collections.push_back(coll);
    }
    b.body += "]";
    return b;
}

std::vector<std::uint64_t> seqs_of_answer(const std::string& body) {
    const auto answer = json::parse(body);
    std::vector<std::uint64_t> out;
    for (const auto& v : answer.at("seqs").as_array()) out.push_back(v.to_number<std::uint64_t>());
    return out;
}

}  // namespace

TEST(shards, concurrent_publishers_and_resuming_clients_lose_nothing_and_get_nothing_extra) {
    const int per_notifier = scaled(10'000), posts_per_publisher = scaled(1500);
    notifier::options o;
    o.threads = 4;  // more shards than cores on a small machine, on purpose
    o.history_size = 100'000;          // every resume can be served from history
    o.max_queue_bytes = 64u << 20;     // a client descheduled for a while is not a slow consumer here
    o.max_messages_per_second = 1000;  // togglers' frames are never rate limited
    test_server server(o);
    const auto port = server.port();

    // The observer sees the whole log: connected (implicitly to *) before
    // anything is published, never reconnecting.
    chain observer;
    progress observed;
    ws_client observer_ws(port);
    {
        const auto w = observer_ws.read_json(frame_timeout);
        ASSERT_EQ(seq_of(w), 0u);
        observer.epoch = std::string(w.at("epoch").as_string());
    }
    std::jthread observer_thread = guarded([&] {
        for (std::uint64_t expect = 1;; ++expect) {
            const auto m = observer_ws.read(frame_timeout);
            ASSERT_TRUE(m) << "observer lost its stream after seq " << expect - 1;
            const auto ob = json::parse(*m).as_object();
            ASSERT_EQ(seq_of(ob), expect) << *m;  // 1, 2, 3, … with no gap
            observer.got.emplace(expect, *m);
            const bool end = ob.at("action") == "end";
            if (end || expect % 64 == 0) observed.advance(expect, end);
            if (end) {
                observer.end_seq = expect;
                return;
            }
        }
    });

    // Six logical clients with fixed subscriptions, resuming as they go. The
    // last three first connect mid-stream, at different points.
    // Roughly the final seq (POST batches hold 1-3 notifications, 2 on average).
    const std::uint64_t total = 3u * per_notifier + 4u * posts_per_publisher + 1;
    const std::vector<std::string> subscriptions = {"a", "a,b", "*", "a", "a,b", "*"};
    std::vector<chain> chains(subscriptions.size());
    std::vector<std::jthread> clients;
    for (std::size_t i = 0; i < chains.size(); ++i) {
        chains[i].collections = subscriptions[i];
        chains[i].reconnects = 20 + static_cast<int>(i) * 4;
        const std::uint64_t start_after = i < 3 ? 0 : total * (i - 2) / 8;
        clients.push_back(guarded([&, i, start_after] {
            ASSERT_TRUE(observed.wait_for(start_after)) << "the observer never reached seq " << start_after;
            run_chain(port, chains[i], 1000 + static_cast<unsigned>(i));
        }));
    }
    // Subscription changes on separate clients, connected before publishing.
    std::latch togglers_ready(2);
    std::vector<std::jthread> togglers;
    for (unsigned i = 0; i < 2; ++i)
        togglers.push_back(guarded([&, i] {
            struct release_once {  // even when the toggler fails before it is ready
                std::latch& latch;
                bool done = false;
                void operator()() {
                    if (!std::exchange(done, true)) latch.count_down();
                }
                ~release_once() { (*this)(); }
            } release{togglers_ready};
            run_toggler(port, 2000 + i, [&] { release(); });
        }));
    togglers_ready.wait();

    // seq -> collection, from the POST /publish answers.
    std::vector<std::map<std::uint64_t, std::string>> posted(2);
    auto n = server.make_notifier();
    std::vector<std::jthread> publishers;
    const char* const notify_collections[] = {"a", "b", "c"};
    for (int t = 0; t < 3; ++t)
        publishers.push_back(guarded([&, t] {
            for (int i = 0; i < per_notifier; ++i) {
                const std::int64_t id = std::int64_t{t} * 1'000'000 + i;
                std::error_code ec;
                while ((ec = n.notify(notify_collections[t], "notify", id)) == notifier::errc::overloaded)
                    std::this_thread::yield();
                ASSERT_FALSE(ec) << ec.message();
            }
        }));
    for (int p = 0; p < 2; ++p)
        publishers.push_back(guarded([&, p] {
            for (int r = 0; r < posts_per_publisher; ++r) {
                const auto b = make_batch(p, r);
                const auto [status, body] = http_post(port, "/publish", b.body);
                ASSERT_EQ(status, 202u) << body;
                const auto seqs = seqs_of_answer(body);
                ASSERT_EQ(seqs.size(), b.collections.size()) << body;
                for (std::size_t j = 0; j < seqs.size(); ++j) {
                    if (j) ASSERT_EQ(seqs[j], seqs[j - 1] + 1) << body;  // one batch: consecutive seqs
                    posted[p].emplace(seqs[j], b.collections[j]);
                }
            }
        }));
    for (auto& t : publishers) t.join();

    // Everything is published; the end marker follows it in seq order on
    // every shard, so a client that reads it has had everything before it.
    const auto [status, body] = http_post(port, "/publish", R"({"collection":"a","action":"end"})");
    ASSERT_EQ(status, 202u) << body;
    const auto end_seq = seqs_of_answer(body).at(0);
    for (auto& t : clients) t.join();
    for (auto& t : togglers) t.join();
    observer_thread.join();
    ASSERT_FALSE(testing::Test::HasFailure());

    // The observer's log is the whole log: every notify() and every posted
    // notification, then the marker.
    std::size_t posted_total = 0;
    for (const auto& p : posted) posted_total += p.size();
    ASSERT_EQ(end_seq, 3u * per_notifier + posted_total + 1);
    ASSERT_EQ(observer.end_seq, end_seq);
    ASSERT_EQ(observer.got.size(), end_seq);
    std::map<std::uint64_t, std::string> collection_of;
    std::vector<std::int64_t> last_id(3, -1);
    for (const auto& [seq, frame] : observer.got) {
        const auto ob = json::parse(frame).as_object();
        collection_of.emplace(seq, std::string(ob.at("collection").as_string()));
        if (ob.at("action") == "notify") {  // one notify() thread's calls keep their order
            const auto id = std::stoll(std::string(ob.at("id").as_string()));
            const auto t = static_cast<std::size_t>(id / 1'000'000);
            const auto i = id % 1'000'000;
            ASSERT_LT(t, 3u);
            ASSERT_EQ(ob.at("collection"), notify_collections[t]);
            ASSERT_EQ(i, last_id[t] + 1) << frame;
            last_id[t] = i;
        }
    }
    EXPECT_EQ(last_id, std::vector<std::int64_t>(3, per_notifier - 1));
    for (const auto& p : posted)
        for (const auto& [seq, coll] : p) ASSERT_EQ(collection_of.at(seq), coll) << "seq " << seq;

    int connections = 0;
    for (const auto& c : chains) connections += c.connections;
    std::printf("%llu notifications, %d client connections (%zu logical clients)\n",
                static_cast<unsigned long long>(end_seq), connections, chains.size());

    // Each logical client: exactly the matches after its first welcome, as
    // the bytes the observer got.
    for (const auto& c : chains) {
        SCOPED_TRACE("?collections=" + c.collections);
        EXPECT_EQ(c.epoch, observer.epoch);
        EXPECT_EQ(c.end_seq, end_seq);
        std::vector<std::uint64_t> missing, extra;
        for (auto it = observer.got.upper_bound(c.first_welcome); it != observer.got.end(); ++it)
            if (subscribed_to(c.collections, collection_of.at(it->first)) && !c.got.contains(it->first))
                missing.push_back(it->first);
        for (const auto& [seq, frame] : c.got) {
            if (seq <= c.first_welcome || !subscribed_to(c.collections, collection_of.at(seq))) extra.push_back(seq);
            else EXPECT_EQ(frame, observer.got.at(seq)) << "seq " << seq;
        }
        EXPECT_TRUE(missing.empty()) << missing.size() << " missing, first " << missing.front() << " (welcome "
                                     << c.first_welcome << ")";
        EXPECT_TRUE(extra.empty()) << extra.size() << " extra, first " << extra.front();
    }
}

TEST(shards, the_acceptor_spreads_sessions_evenly_over_shards) {
    notifier::options o;
    o.threads = 4;
    test_server server(o);
    std::vector<std::unique_ptr<ws_client>> cs;
    for (int i = 0; i < 40; ++i) {
        cs.push_back(std::make_unique<ws_client>(server.port()));
        ASSERT_EQ(cs.back()->read_json(frame_timeout).at("type"), "welcome");
    }
    const auto [status, text] = scrape_metrics(server.port());
    ASSERT_EQ(status, 200u) << text;
    EXPECT_EQ(metric_sample(text, "notifier_shards"), 4);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(metric_sample(text, "notifier_shard_sessions{shard=\"" + std::to_string(i) + "\"}"), 10)
            << "shard " << i;
    EXPECT_EQ(metric_sample(text, "notifier_shard_sessions{shard=\"4\"}"), -1);
    EXPECT_EQ(metric_sample(text, "notifier_websocket_sessions"), 40);
}

TEST(shards, stop_closes_every_session_on_every_shard_with_1001) {
    notifier::options o;
    o.threads = 3;
    o.close_timeout = 60s;  // stop() returning in time means every close handshake completed
    test_server server(o);
    std::vector<std::unique_ptr<ws_client>> cs;
    for (int i = 0; i < 12; ++i) {
        cs.push_back(std::make_unique<ws_client>(server.port()));
        ASSERT_EQ(cs.back()->read_json(frame_timeout).at("type"), "welcome");
    }
    // Accepted before stop() begins: fanned out on every shard before the close.
    const auto [status, body] = http_post(server.port(), "/publish", R"({"collection":"a","action":"last"})");
    ASSERT_EQ(status, 202u) << body;
    // stop() waits for the clients' close answers: stop from another thread.
    auto stopped = std::async(std::launch::async, [&] { server.stop(); });
    for (std::size_t i = 0; i < cs.size(); ++i) {
        SCOPED_TRACE("client " + std::to_string(i));
        const auto m = cs[i]->read(frame_timeout);
        ASSERT_TRUE(m) << "closed before the notification published before stop()";
        EXPECT_EQ(*m, R"({"seq":1,"collection":"a","action":"last"})");
        EXPECT_FALSE(cs[i]->read(frame_timeout));
        EXPECT_TRUE(cs[i]->closed_by_peer());
        EXPECT_EQ(cs[i]->close_code(), 1001);
        EXPECT_EQ(cs[i]->close_reason(), "server shutdown");
    }
    ASSERT_EQ(stopped.wait_for(frame_timeout), std::future_status::ready) << "stop() did not return";
    EXPECT_EQ(server.get().stats().sessions, 0u);
    EXPECT_EQ(server.make_notifier().notify("x", "y"), notifier::errc::stopped);
}

TEST(shards, one_thread_publishes_and_resumes) {
    notifier::options o;
    o.threads = 1;
    test_server server(o);
    auto n = server.make_notifier();
    std::string epoch;
    std::uint64_t cursor = 0;
    {
        ws_client c(server.port(), "/ws?collections=a");
        const auto w = c.read_json(frame_timeout);
        ASSERT_EQ(w.at("type"), "welcome");
        epoch = std::string(w.at("epoch").as_string());
        ASSERT_FALSE(n.notify("a", "create", std::int64_t{1}));
        ASSERT_FALSE(n.notify("b", "create", std::int64_t{2}));
        const auto [status, body] = http_post(server.port(), "/publish", R"({"collection":"a","action":"update","id":1})");
        ASSERT_EQ(status, 202u) << body;
        EXPECT_EQ(body, R"({"seqs":[3]})");
        EXPECT_EQ(*c.read(frame_timeout), R"({"seq":1,"collection":"a","action":"create","id":"1"})");
        EXPECT_EQ(*c.read(frame_timeout), R"({"seq":3,"collection":"a","action":"update","id":"1"})");
        cursor = 3;
    }
    ASSERT_FALSE(n.notify("a", "delete", std::int64_t{1}));
    ASSERT_FALSE(n.notify("b", "delete", std::int64_t{2}));
    ASSERT_TRUE(notifier::test::eventually([&] { return server.get().stats().last_seq == 5; }));
    ws_client again(server.port(), "/ws?collections=a&since=" + std::to_string(cursor) + "&epoch=" + epoch);
    const auto w = again.read_json(frame_timeout);
    EXPECT_EQ(w.at("type"), "welcome");
    EXPECT_EQ(w.at("resumed"), true);
    EXPECT_EQ(seq_of(w), 5u);
    EXPECT_EQ(*again.read(frame_timeout), R"({"seq":4,"collection":"a","action":"delete","id":"1"})");
    ASSERT_FALSE(n.notify("a", "create", std::int64_t{9}));
    EXPECT_EQ(*again.read(frame_timeout), R"({"seq":6,"collection":"a","action":"create","id":"9"})");
    expect_metrics(server.port(), {{"notifier_shards", 1},
                                   {"notifier_shard_sessions{shard=\"0\"}", 1}});
}
