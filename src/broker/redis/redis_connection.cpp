// SPDX-License-Identifier: MIT
#include "broker/redis/redis_connection.hpp"

#include "broker/redis/redis_asio.hpp"
#include "broker/redis/redis_reply.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>

namespace notifier::redis {

namespace {

// hiredis' form of a command: binary-safe, so lengths beside pointers.
struct argv_lists {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
};

argv_lists to_argv(const std::vector<std::string_view>& args) {
    argv_lists out;
    for (auto a : args) {
        out.argv.push_back(a.data());
        out.lens.push_back(a.size());
    }
    return out;
}

}  // namespace

void redis_connection::reply_deleter::operator()(redisReply* r) const { freeReplyObject(r); }

redis_connection::reply_ptr redis_connection::run_once(const redis_options& o, const std::vector<std::string_view>& args,
                                                       std::string& error) {
    timeval tv{static_cast<time_t>(o.connect_timeout.count() / 1000),
               static_cast<suseconds_t>((o.connect_timeout.count() % 1000) * 1000)};
    redisContext* c = redisConnectWithTimeout(o.host.c_str(), o.port, tv);
    if (!c || c->err) {
        std::string why = c ? c->errstr : "out of memory";
        if (c) redisFree(c);
        throw std::runtime_error("cannot connect to Redis at " + o.host + ":" + std::to_string(o.port) + ": " + why);
    }
    auto a = to_argv(args);
    reply_ptr r(static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(a.argv.size()), a.argv.data(), a.lens.data())));
    if (!r) error = c->errstr;
    redisFree(c);
    return r;
}

// One command's callback and the clock that counts it until answered.
struct redis_connection::pending_reply {
    reply_fn fn;
    command_clock& clock;
};

redis_connection::redis_connection(boost::asio::io_context& ioc, const redis_options& o, std::string channel,
                                   connection_listener& listener)
    : ioc_(ioc), o_(o), channel_(std::move(channel)), listener_(&listener), watchdog_(ioc), reconnect_timer_(ioc),
      backoff_(o.reconnect_min) {}

redis_connection::~redis_connection() { stop(); }

void redis_connection::start() {
    cmd_up_ = sub_up_ = true;
    connect_all();
    arm_watchdog();
}

void redis_connection::stop() {
    if (stopped_) return;
    stopped_ = true;
    listener_ = nullptr;
    reconnect_timer_.cancel();
    watchdog_.cancel();
    if (cmd_) redisAsyncFree(cmd_);  // pending callbacks run with no reply
    if (sub_) redisAsyncFree(sub_);
    cmd_ = sub_ = nullptr;
    cmd_up_ = sub_up_ = false;
}

void redis_connection::on_reply(redisAsyncContext*, void* r, void* priv) {
    auto* p = static_cast<pending_reply*>(priv);
    if (p->clock.outstanding) --p->clock.outstanding;
    p->clock.last_answer = std::chrono::steady_clock::now();
    p->fn(static_cast<redisReply*>(r));
    delete p;
}

// `clock_` outlives every callback: stop() and the watchdog free the
// context, which runs them, before this object goes.
bool redis_connection::command(const std::vector<std::string_view>& args, reply_fn fn) {
    if (!cmd_) return false;
    auto a = to_argv(args);
    auto* cb = new pending_reply{std::move(fn), clock_};
    if (redisAsyncCommandArgv(cmd_, on_reply, cb, static_cast<int>(a.argv.size()), a.argv.data(), a.lens.data()) !=
        REDIS_OK) {
        delete cb;
        return false;
    }
    if (clock_.outstanding++ == 0) clock_.last_answer = std::chrono::steady_clock::now();  // the clock starts now
    return true;
}

void redis_connection::lost(std::string_view event, std::string_view detail) {
    if (listener_) listener_->on_warning(event, detail);
    if (!lost_since_) lost_since_ = std::chrono::steady_clock::now();
}

// A command connection with work outstanding and no answer for
// command_timeout is dropped: its callbacks fail and it reconnects.
void redis_connection::arm_watchdog() {
    watchdog_.expires_after(std::max<std::chrono::milliseconds>(o_.command_timeout / 4, std::chrono::milliseconds(10)));
    watchdog_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->stopped_) return;
        const auto& c = self->clock_;
        if (self->cmd_ && c.outstanding > 0 && std::chrono::steady_clock::now() - c.last_answer > self->o_.command_timeout) {
            self->lost("redis_timeout",
                       "Redis did not answer for " + std::to_string(self->o_.command_timeout.count()) + " ms; reconnecting");
            auto* ac = self->cmd_;
            self->cmd_ = nullptr;
            self->cmd_up_ = false;
            redisAsyncFree(ac);  // its callbacks run now with no reply
            self->clock_ = {};
            self->schedule_reconnect();
        }
        self->arm_watchdog();
    });
}

void redis_connection::connect_all() {
    if (stopped_) return;
    if (!cmd_) connect(cmd_, true);
    if (!sub_) connect(sub_, false);
}

void redis_connection::connect(redisAsyncContext*& slot, bool is_cmd) {
    redisAsyncContext* ac = redisAsyncConnect(o_.host.c_str(), o_.port);
    if (!ac || ac->err) {
        if (ac) redisAsyncFree(ac);
        return schedule_reconnect();
    }
    ac->data = this;
    // A Redis that vanishes without closing the connection is noticed by TCP
    // keepalive instead of never.
    redisEnableKeepAlive(&ac->c);
    asio_adapter::attach(ioc_, ac);
    redisAsyncSetConnectCallback(ac, is_cmd ? &on_cmd_connect : &on_sub_connect);
    redisAsyncSetDisconnectCallback(ac, is_cmd ? &on_cmd_disconnect : &on_sub_disconnect);
    slot = ac;
}

void redis_connection::on_cmd_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<redis_connection*>(ac->data);
    if (status != REDIS_OK) {  // hiredis frees the context after this
        self->cmd_ = nullptr;
        return self->schedule_reconnect();
    }
    if (self->listener_) self->listener_->on_command_connected();  // before anything else on it
    self->cmd_up_ = true;
    self->maybe_ready();
}

void redis_connection::on_sub_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<redis_connection*>(ac->data);
    if (status != REDIS_OK) {
        self->sub_ = nullptr;
        return self->schedule_reconnect();
    }
    redisAsyncCommand(self->sub_, &on_subscription, self, "SUBSCRIBE %b", self->channel_.data(), self->channel_.size());
}

void redis_connection::on_cmd_disconnect(const redisAsyncContext* ac, int) {
    static_cast<redis_connection*>(ac->data)->dropped(true);
}

void redis_connection::on_sub_disconnect(const redisAsyncContext* ac, int) {
    static_cast<redis_connection*>(ac->data)->dropped(false);
}

// hiredis frees the context after this.
void redis_connection::dropped(bool is_cmd) {
    (is_cmd ? cmd_ : sub_) = nullptr;
    (is_cmd ? cmd_up_ : sub_up_) = false;
    if (stopped_) return;
    lost("redis_connection_lost",
         is_cmd ? "Redis command connection lost; reconnecting" : "Redis subscription lost; reconnecting");
    schedule_reconnect();
}

void redis_connection::on_subscription(redisAsyncContext*, void* r, void* priv) {
    auto* self = static_cast<redis_connection*>(priv);
    const auto ev = decode_subscription_event(static_cast<redisReply*>(r));
    if (ev.what == subscription_event::kind::subscribed) {
        self->sub_up_ = true;
        self->maybe_ready();
    } else if (ev.what == subscription_event::kind::message && self->listener_) {
        self->listener_->on_channel_message(ev.payload);
    }
}

void redis_connection::schedule_reconnect() {
    if (stopped_ || reconnect_scheduled_) return;
    reconnect_scheduled_ = true;
    reconnect_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, o_.reconnect_max);
    reconnect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        self->reconnect_scheduled_ = false;
        if (!ec) self->connect_all();
    });
}

// Both connections up: the listener finds out what happened meanwhile.
void redis_connection::maybe_ready() {
    if (!cmd_up_ || !sub_up_ || !listener_) return;
    backoff_ = o_.reconnect_min;
    if (lost_since_) {
        const auto down =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *lost_since_);
        lost_since_.reset();
        listener_->on_info("redis_reconnected", "Redis connections restored after " + std::to_string(down.count()) + " ms");
    }
    listener_->on_ready();
}

}  // namespace notifier::redis
