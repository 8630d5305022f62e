// SPDX-License-Identifier: MIT
// The broker conformance suite against the Redis broker, on a real
// redis-server started by this test on a free loopback port.

#include <notifier/broker/redis_broker.hpp>
#include <notifier/errors.hpp>
#include <notifier/hub.hpp>

#include "support/broker_conformance.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

extern char** environ;

namespace {

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// One redis-server for the whole test binary; ready once it says so.
class redis_environment : public ::testing::Environment {
public:
    static inline int port = 0;

    void SetUp() override {
        port = free_port();
        dir_ = std::filesystem::temp_directory_path() / ("notifier-redis-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        int out[2];
        ASSERT_EQ(::pipe(out), 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        const std::string p = std::to_string(port), d = dir_.string();
        const char* argv[] = {"redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", d.c_str(), nullptr};
        const int rc = posix_spawnp(&pid_, "redis-server", &fa, nullptr, const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(out[1]);
        ASSERT_EQ(rc, 0) << "redis-server not found (Debian package redis-server)";
        FILE* f = ::fdopen(out[0], "r");
        char line[1024];
        bool ready = false;
        while (!ready && std::fgets(line, sizeof line, f))
            ready = std::string_view(line).find("Ready to accept connections") != std::string_view::npos;
        // Keep draining its output so it never blocks on a full pipe.
        drain_ = std::thread([f] {
            char buf[4096];
            while (std::fgets(buf, sizeof buf, f)) {
            }
            std::fclose(f);
        });
        ASSERT_TRUE(ready) << "redis-server did not start";
    }

    void TearDown() override {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
        if (drain_.joinable()) drain_.join();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

private:
    pid_t pid_ = -1;
    std::filesystem::path dir_;
    std::thread drain_;
};

boost::asio::io_context& loop() {
    static boost::asio::io_context ioc;
    return ioc;
}

std::atomic<int> next_prefix{0};

notifier::testing::broker_factory redis_factory() {
    notifier::testing::broker_factory f;
    f.name = "redis";
    f.make = [](std::size_t history) -> std::unique_ptr<notifier::broker> {
        notifier::redis_options o;
        o.port = redis_environment::port;
        o.prefix = "conformance" + std::to_string(::getpid()) + "_" + std::to_string(next_prefix++);
        o.history_size = history;
        return std::make_unique<notifier::redis_broker>(loop(), o);
    };
    f.pump = [] {
        loop().restart();
        loop().run_for(std::chrono::milliseconds(2));
    };
    f.max_pump_rounds = 2500;  // 5 s
    return f;
}

const auto* const env = ::testing::AddGlobalTestEnvironment(new redis_environment);

}  // namespace

using notifier::testing::BrokerConformance;
INSTANTIATE_TEST_SUITE_P(Redis, BrokerConformance, ::testing::Values(redis_factory()),
                         notifier::testing::broker_factory_name);

TEST(redis_url, parses_host_port_prefix) {
    auto o = notifier::parse_redis_url("redis://10.0.0.5:7000/app1");
    EXPECT_EQ(o.host, "10.0.0.5");
    EXPECT_EQ(o.port, 7000);
    EXPECT_EQ(o.prefix, "app1");
    auto d = notifier::parse_redis_url("redis://localhost");
    EXPECT_EQ(d.host, "localhost");
    EXPECT_EQ(d.port, 6379);
    EXPECT_EQ(d.prefix, "notifier");
    EXPECT_THROW(notifier::parse_redis_url("http://x"), std::invalid_argument);
    EXPECT_THROW(notifier::parse_redis_url("redis://x:99999"), std::invalid_argument);
    EXPECT_THROW(notifier::parse_redis_url("redis://x/bad prefix"), std::invalid_argument);
}

TEST(redis_broker, start_fails_clearly_without_redis) {
    notifier::redis_options o;
    o.port = free_port();  // nothing listens there
    notifier::redis_broker b(loop(), o);
    notifier::testing::recording_handler h;
    try {
        b.start(h);
        FAIL() << "start() must throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot connect to Redis"), std::string::npos) << e.what();
    }
}

namespace {

// Runs the loop until `done` holds or `limit` passes; the final verdict.
template <class F>
bool pump_until(boost::asio::io_context& ioc, F&& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(2));
    }
    return done();
}

// A command on a connection of its own, for what a test does to Redis.
std::string redis_command(const std::string& c) {
    timeval tv{2, 0};
    redisContext* ctx = redisConnectWithTimeout("127.0.0.1", redis_environment::port, tv);
    std::string out = "<error>";
    if (ctx && !ctx->err) {
        if (auto* r = static_cast<redisReply*>(redisCommand(ctx, c.c_str()))) {
            if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) out.assign(r->str, r->len);
            else if (r->type == REDIS_REPLY_INTEGER) out = std::to_string(r->integer);
            else if (r->type == REDIS_REPLY_NIL) out = "<nil>";
            freeReplyObject(r);
        }
    }
    if (ctx) redisFree(ctx);
    return out;
}

notifier::redis_options fresh_options() {
    notifier::redis_options o;
    o.port = redis_environment::port;
    o.prefix = "regress" + std::to_string(::getpid()) + "_" + std::to_string(next_prefix++);
    return o;
}

std::vector<notifier::notification> one(std::string id) {
    return {notifier::notification{"c", "update", std::move(id), std::nullopt}};
}

// available() is true from start(); a publication that came back through
// the subscription shows both connections really up.
void warm_up(notifier::redis_broker& b, boost::asio::io_context& ioc, notifier::testing::recording_handler& h) {
    const auto before = h.all.size();
    bool answered = false;
    b.publish(one("warm-up"), [&](std::error_code, std::uint64_t) { answered = true; });
    ASSERT_TRUE(pump_until(ioc, [&] { return answered && h.all.size() > before; }));
}

}  // namespace

TEST(redis_broker, messages_of_the_epoch_left_by_restart_do_not_take_the_node_back) {
    boost::asio::io_context ioc;
    notifier::redis_broker b(ioc, fresh_options());
    notifier::testing::recording_handler h;
    b.start(h);
    warm_up(b, ioc, h);
    const std::string old_epoch = b.epoch();
    int p_calls = 0, q_calls = 0, r_calls = 0;
    std::error_code q_ec;
    // P's announcement of the old epoch is still on its way when restart's
    // answer arrives; Q is the new epoch's first.
    b.publish(one("P"), [&](std::error_code, std::uint64_t) { ++p_calls; });
    b.restart([&](std::error_code) { ++r_calls; });
    b.publish(one("Q"), [&](std::error_code ec, std::uint64_t) {
        ++q_calls;
        q_ec = ec;
    });
    ASSERT_TRUE(pump_until(ioc, [&] { return p_calls == 1 && q_calls == 1 && r_calls == 1; }));
    EXPECT_FALSE(q_ec) << "Q was stored, yet its publisher was told: " << q_ec.message();
    ASSERT_FALSE(h.all.empty());
    EXPECT_EQ(h.all.back()->id, "Q");
    EXPECT_EQ(h.all.back()->seq, 1u);  // of the new epoch
    EXPECT_NE(b.epoch(), old_epoch);
    for (std::size_t i = 1; i < h.resets.size(); ++i) EXPECT_NE(h.resets[i].first, old_epoch) << "reset #" << i;
}

TEST(redis_broker, a_failed_catch_up_is_retried_until_the_node_has_what_it_missed) {
    boost::asio::io_context ioa, iob;
    const auto o = fresh_options();
    notifier::redis_broker a(ioa, o), b(iob, o);
    notifier::testing::recording_handler ha, hb;
    a.start(ha);
    b.start(hb);
    warm_up(a, ioa, ha);  // seq 1
    warm_up(b, iob, hb);  // seq 2; A has not read it yet
    ASSERT_TRUE(pump_until(ioa, [&] { return ha.all.size() == 2; }));
    redis_command("CLIENT KILL TYPE pubsub");  // every subscription drops
    // B publishes while A's loop does not run: A misses the announcement.
    int published = 0;
    b.publish(one("missed"), [&](std::error_code ec, std::uint64_t) { published += ec ? 100 : 1; });
    ASSERT_TRUE(pump_until(iob, [&] { return published != 0; }));
    ASSERT_EQ(published, 1);
    // A's catch-up after resubscribing fails once (as with -LOADING after a
    // Redis restart): it must ask again, not wait for the next publication.
    redis_command("SCRIPT FLUSH");
    EXPECT_TRUE(pump_until(ioa, [&] { return ha.all.size() == 3; }));
    EXPECT_EQ(a.last_seq(), 3u);
    ASSERT_EQ(ha.all.size(), 3u);
    EXPECT_EQ(ha.all.back()->id, "missed");
}

TEST(redis_broker, what_notify_accepted_before_stop_reaches_redis) {
    const auto o = fresh_options();
    notifier::options ho;
    ho.listen_host = "127.0.0.1";
    ho.listen_port = 0;
    notifier::hub hub(ho, notifier::make_redis_broker(o));
    hub.start();
    ASSERT_FALSE(hub.submit(notifier::notification{"c", "update", std::string("x"), std::nullopt}));
    hub.stop();  // returns once the loop ended
    EXPECT_EQ(redis_command("GET " + o.prefix + ":seq"), "1") << "the accepted notification never reached Redis";
}

namespace {

// A redis-server of the test's own, for what cannot be done to the shared one.
struct own_redis {
    int port = free_port();
    pid_t pid = -1;
    own_redis() {
        const std::string p = std::to_string(port);
        const char* argv[] = {"redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                              "no", "--loglevel", "warning", nullptr};
        posix_spawnp(&pid, "redis-server", nullptr, nullptr, const_cast<char**>(argv), environ);
        for (int i = 0; i < 500 && !answers(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~own_redis() {
        ::kill(pid, SIGCONT);
        ::kill(pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
    }
    bool answers() const {
        timeval tv{0, 200'000};
        redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
        bool ok = false;
        if (c && !c->err)
            if (auto* r = static_cast<redisReply*>(redisCommand(c, "PING"))) {
                ok = r->type == REDIS_REPLY_STATUS;
                freeReplyObject(r);
            }
        if (c) redisFree(c);
        return ok;
    }
};

}  // namespace

TEST(redis_broker, a_redis_that_stops_answering_fails_publishes_then_recovers) {
    own_redis redis;
    ASSERT_TRUE(redis.answers()) << "redis-server did not start";
    boost::asio::io_context ioc;
    notifier::redis_options o;
    o.port = redis.port;
    o.prefix = "frozen";
    o.command_timeout = std::chrono::milliseconds(300);
    notifier::redis_broker b(ioc, o);
    notifier::testing::recording_handler h;
    b.start(h);
    warm_up(b, ioc, h);
    // Frozen, with its connections open: only the watchdog can tell.
    ::kill(redis.pid, SIGSTOP);
    int answered = 0;
    std::error_code ec;
    b.publish(one("while frozen"), [&](std::error_code e, std::uint64_t) {
        ++answered;
        ec = e;
    });
    ASSERT_TRUE(pump_until(ioc, [&] { return answered == 1; }));
    EXPECT_EQ(ec, notifier::errc::broker_unavailable);
    EXPECT_FALSE(b.available());
    ::kill(redis.pid, SIGCONT);
    ASSERT_TRUE(pump_until(ioc, [&] { return b.available(); }));
    warm_up(b, ioc, h);  // publishes and delivers again
}

TEST(redis_broker, a_lost_connection_is_reported_and_so_is_its_return) {
    boost::asio::io_context ioc;
    notifier::redis_broker b(ioc, fresh_options());
    notifier::testing::recording_handler h;
    b.start(h);
    warm_up(b, ioc, h);
    EXPECT_EQ(h.events, std::vector<std::string>{}) << "a first connect is no reconnect";
    redis_command("CLIENT KILL TYPE pubsub");  // this node's subscription drops
    ASSERT_TRUE(pump_until(ioc, [&] { return !h.events.empty(); }));
    EXPECT_EQ(h.events.front(), "warn redis_connection_lost");
    ASSERT_TRUE(pump_until(ioc, [&] { return h.events.back() == "info redis_reconnected"; }))
        << ::testing::PrintToString(h.events);
    EXPECT_TRUE(b.available());
    warm_up(b, ioc, h);  // publishes and delivers again
    EXPECT_EQ(std::count(h.events.begin(), h.events.end(), "info redis_reconnected"), 1)
        << ::testing::PrintToString(h.events);
}

namespace {

// What an RDB snapshot would bring back of a cluster's keys: the stream (its
// top id included) and the seq counter.
struct key_snapshot {
    std::string stream, seq;
};

key_snapshot take_snapshot(const std::string& prefix) {
    timeval tv{2, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", redis_environment::port, tv);
    key_snapshot s;
    if (auto* r = static_cast<redisReply*>(redisCommand(c, "DUMP %s:stream", prefix.c_str()))) {
        if (r->type == REDIS_REPLY_STRING) s.stream.assign(r->str, r->len);
        freeReplyObject(r);
    }
    s.seq = redis_command("GET " + prefix + ":seq");
    redisFree(c);
    return s;
}

void restore_snapshot(const std::string& prefix, const key_snapshot& s) {
    timeval tv{2, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", redis_environment::port, tv);
    if (auto* r = redisCommand(c, "RESTORE %s:stream 0 %b REPLACE", prefix.c_str(), s.stream.data(), s.stream.size()))
        freeReplyObject(r);
    redisFree(c);
    redis_command("SET " + prefix + ":seq " + s.seq);
}

}  // namespace

// Redis comes back from a snapshot older than what node A delivered, and a
// node that starts afterwards knows no better than Redis: it numbers the
// lost seqs again. Without the entries' nonces A would take those as
// duplicates and its clients would miss them silently.
TEST(redis_broker, seqs_numbered_again_after_a_restore_are_never_skipped_silently) {
    boost::asio::io_context ioa, iob;
    const auto o = fresh_options();
    notifier::redis_broker a(ioa, o);
    notifier::testing::recording_handler ha;
    a.start(ha);
    warm_up(a, ioa, ha);  // seq 1
    const std::string old_epoch = a.epoch();
    const auto snapshot = take_snapshot(o.prefix);
    ASSERT_EQ(snapshot.seq, "1");
    int answered = 0;
    for (const char* id : {"lost-2", "lost-3", "lost-4"})
        a.publish(one(id), [&](std::error_code, std::uint64_t) { ++answered; });
    ASSERT_TRUE(pump_until(ioa, [&] { return answered == 3 && ha.all.size() == 4; }));

    restore_snapshot(o.prefix, snapshot);
    notifier::redis_broker b(iob, o);
    notifier::testing::recording_handler hb;
    b.start(hb);
    EXPECT_EQ(b.last_seq(), 1u);
    std::uint64_t first = 0;
    std::vector<notifier::notification> again;
    for (const char* id : {"again-2", "again-3", "again-4"}) again.push_back(one(id).front());
    b.publish(again, [&](std::error_code ec, std::uint64_t f) { first = ec ? 100 : f; });
    ASSERT_TRUE(pump_until(iob, [&] { return first != 0; }));
    ASSERT_EQ(first, 2u) << "the fresh node reuses seq 2..4";

    ASSERT_TRUE(pump_until(ioa, [&] { return !ha.resets.empty(); })) << ::testing::PrintToString(ha.events);
    EXPECT_NE(ha.resets.back().first, old_epoch);
    EXPECT_NE(a.epoch(), old_epoch);
    EXPECT_EQ(std::count(ha.events.begin(), ha.events.end(), "warn redis_seq_reused"), 1);
    for (const auto& p : ha.all) EXPECT_EQ(p->id.find("again"), std::string::npos) << p->id << " at " << p->seq;
    // The new epoch reaches the other node with the next publication.
    warm_up(a, ioa, ha);
    ASSERT_TRUE(pump_until(iob, [&] { return !hb.resets.empty(); }));
    EXPECT_EQ(b.epoch(), a.epoch());
}
