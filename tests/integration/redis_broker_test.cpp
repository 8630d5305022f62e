// The broker conformance suite against the Redis broker, on a real
// redis-server started by this test on a free loopback port.

#include <notifier/broker/redis_broker.hpp>

#include "support/broker_conformance.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
