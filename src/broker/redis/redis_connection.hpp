// SPDX-License-Identifier: MIT
#pragma once
// The broker's two hiredis connections to Redis, driven from the intake's
// loop: one for commands, one subscribed to the cluster's channel. Owns
// sending commands, the watchdog that drops a command connection Redis
// stopped answering, and reconnecting with a growing delay.

#include <notifier/broker/redis_broker.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace notifier::redis {

/// What a redis_connection reports. Called on the io_context's thread, never
/// after redis_connection::stop().
class connection_listener {
public:
    virtual ~connection_listener() = default;
    /// The command connection is up: what must precede every other command
    /// on it (loading scripts).
    virtual void on_command_connected() = 0;
    /// Both connections are up, at start or again after a loss: time to
    /// find out what was missed.
    virtual void on_ready() = 0;
    /// A message on the channel.
    virtual void on_channel_message(std::string_view payload) = 0;
    virtual void on_warning(std::string_view event, std::string_view detail) = 0;
    virtual void on_info(std::string_view event, std::string_view detail) = 0;
};

class redis_connection : public std::enable_shared_from_this<redis_connection> {
public:
    /// Gets the reply, or nullptr when the connection went away first.
    using reply_fn = std::function<void(redisReply*)>;

    struct reply_deleter {
        void operator()(redisReply* r) const;
    };
    using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

    /// One command on a blocking connection of its own (connect_timeout),
    /// for where Redis stands before start(). Null with `error` set when no
    /// reply came; throws std::runtime_error when Redis cannot be reached.
    static reply_ptr run_once(const redis_options& o, const std::vector<std::string_view>& args, std::string& error);

    redis_connection(boost::asio::io_context& ioc, const redis_options& o, std::string channel,
                     connection_listener& listener);
    ~redis_connection();

    /// Connects both and arms the watchdog. Counts as up meanwhile: Redis
    /// answered the caller a moment ago, and hiredis queues commands until
    /// connected.
    void start();

    /// Closes both; callbacks of commands in flight run with nullptr.
    void stop();

    /// Sends a command on the command connection; false if it could not even
    /// be queued (then `fn` is never called).
    bool command(const std::vector<std::string_view>& args, reply_fn fn);

    /// The command connection is there to take commands.
    bool commands_up() const noexcept { return cmd_ && cmd_up_; }

    /// Both connections are up. Thread-safe.
    bool available() const noexcept { return cmd_up_.load() && sub_up_.load(); }

private:
    // Commands in flight on the command connection and when it last answered.
    struct command_clock {
        std::size_t outstanding = 0;
        std::chrono::steady_clock::time_point last_answer{};
    };
    struct pending_reply;
    static void on_reply(redisAsyncContext*, void* r, void* priv);
    static void on_cmd_connect(const redisAsyncContext* ac, int status);
    static void on_sub_connect(const redisAsyncContext* ac, int status);
    static void on_cmd_disconnect(const redisAsyncContext* ac, int status);
    static void on_sub_disconnect(const redisAsyncContext* ac, int status);
    static void on_subscription(redisAsyncContext*, void* r, void* priv);

    void dropped(bool is_cmd);
    void connect_all();
    void connect(redisAsyncContext*& slot, bool is_cmd);
    void arm_watchdog();
    void schedule_reconnect();
    void lost(std::string_view event, std::string_view detail);
    void maybe_ready();

    boost::asio::io_context& ioc_;
    const redis_options o_;
    const std::string channel_;
    connection_listener* listener_;  // null once stopped
    redisAsyncContext* cmd_ = nullptr;
    redisAsyncContext* sub_ = nullptr;
    std::atomic<bool> cmd_up_{false}, sub_up_{false};
    bool stopped_ = false;
    command_clock clock_;
    boost::asio::steady_timer watchdog_;
    boost::asio::steady_timer reconnect_timer_;
    std::chrono::milliseconds backoff_;
    bool reconnect_scheduled_ = false;
    // A connection was lost since both were last up: the next time they are,
    // the operator hears that it is over (redis_reconnected), once.
    std::optional<std::chrono::steady_clock::time_point> lost_since_;
};

}  // namespace notifier::redis
