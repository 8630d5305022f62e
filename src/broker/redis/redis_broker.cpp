// SPDX-License-Identifier: MIT
// The broker wires its parts: redis_connection (commands, watchdog,
// reconnects), redis_sequencer (order, gaps, epochs), redis_confirmations
// (publish answers), redis_reply (decoding) and redis_scripts (the Lua).
#include <notifier/broker/redis_broker.hpp>
#include <notifier/errors.hpp>

#include "broker/redis/redis_confirmations.hpp"
#include "broker/redis/redis_connection.hpp"
#include "broker/redis/redis_reply.hpp"
#include "broker/redis/redis_scripts.hpp"
#include "broker/redis/redis_sequencer.hpp"
#include "core/random_epoch.hpp"

#include <boost/asio/steady_timer.hpp>

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace notifier {

namespace asio = boost::asio;
using redis::redis_connection;

struct redis_broker::impl : std::enable_shared_from_this<redis_broker::impl>,
                            redis::connection_listener,
                            redis::stream_reader,
                            redis::sequencer_events {
    impl(asio::io_context& io, redis_options opts)
        : ioc(io), o(std::move(opts)), k_epoch(o.prefix + ":epoch"), k_seq(o.prefix + ":seq"),
          k_stream(o.prefix + ":stream"), k_channel(o.prefix + ":pub"), maxlen(std::to_string(o.history_size)),
          publish_sha(redis::script_sha1(redis::publish_script)),
          conn(std::make_shared<redis_connection>(io, o, k_channel, *this)), catch_up_timer(io) {}

    asio::io_context& ioc;
    const redis_options o;
    const std::string k_epoch, k_seq, k_stream, k_channel, maxlen, publish_sha;
    broker_handler* handler = nullptr;
    bool stopped = false;
    redis::redis_sequencer seq{*this, *this};
    const std::shared_ptr<redis_connection> conn;
    redis::redis_confirmations confirmations;
    asio::steady_timer catch_up_timer;
    bool catch_up_scheduled = false;

    bool command(const std::vector<std::string_view>& args, redis_connection::reply_fn fn) {
        return conn->command(args, std::move(fn));
    }
    bool can_publish() const { return conn->commands_up() && handler; }
    void load_scripts() {
        command({"SCRIPT", "LOAD", redis::publish_script}, [](redisReply*) {});
    }

    // The hub logs it (the broker has no log of its own).
    void on_warning(std::string_view event, std::string_view detail) override {
        if (handler) handler->on_broker_warning(event, detail);
    }
    void on_info(std::string_view event, std::string_view detail) override {
        if (handler) handler->on_broker_info(event, detail);
    }

    // --- blocking start: where Redis stands, before taking work ---
    void initial_sync() {
        const std::string cand = core::random_epoch();
        std::string error;
        const auto r = redis_connection::run_once(
            o, {"EVAL", redis::publish_script, "4", k_epoch, k_seq, k_stream, k_channel, maxlen, cand, "", "0", "", ""},
            error);
        const auto head = redis::decode_head(r.get());
        if (!head)
            throw std::runtime_error("Redis refused the notifier script: " +
                                     (r ? std::string(redis::reply_error(r.get())) : error));
        seq.start(head->epoch, head->seq);
    }

    // --- connection_listener ---
    void on_command_connected() override { load_scripts(); }
    void on_ready() override { seq.catch_up(); }
    void on_channel_message(std::string_view payload) override {
        if (!handler) return;
        if (auto m = redis::decode_channel_message(payload)) seq.on_message(std::move(*m));
    }

    // --- stream_reader ---
    // The publish script with no notification: it compares what this node
    // saw with Redis (a new epoch if Redis lost it) and answers where it is.
    void read_head(std::uint64_t seen, std::string_view nonce, head_answer done) override {
        const std::string cand = core::random_epoch(), seen_s = std::to_string(seen);
        command({"EVALSHA", publish_sha, "4", k_epoch, k_seq, k_stream, k_channel, maxlen, cand, seq.epoch(), seen_s,
                 nonce, ""},
                [self = shared_from_this(), done](redisReply* r) {
                    if (!self->handler || self->stopped) return;
                    if (!r) return;  // connection lost: caught up again once reconnected
                    auto head = redis::decode_head(r);
                    if (!head) {
                        // -LOADING after a restart, NOSCRIPT after a flush: what
                        // this node missed is still unknown, so ask again.
                        const auto why = redis::reply_error(r);
                        self->on_warning("redis_catch_up_failed", std::string(why) + "; retrying");
                        if (why.starts_with("NOSCRIPT")) self->load_scripts();
                        return self->schedule_catch_up();
                    }
                    done(std::move(*head));
                });
    }

    bool read_range(std::uint64_t from, std::uint64_t to, range_answer done) override {
        const std::string start = std::to_string(from) + "-0", end = std::to_string(to) + "-0";
        return command({"XRANGE", k_stream, start, end}, [done](redisReply* r) {
            if (!r) return done(std::nullopt);
            done(redis::decode_entries(r));
        });
    }

    void schedule_catch_up() {
        if (stopped || catch_up_scheduled) return;
        catch_up_scheduled = true;
        catch_up_timer.expires_after(o.reconnect_min);
        catch_up_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->catch_up_scheduled = false;
            if (!ec && self->conn->available()) self->seq.catch_up();
        });
    }

    // --- sequencer_events ---
    void on_deliver(std::span<const publication_ptr> run) override {
        if (!handler) return;
        handler->on_publications(run);
        confirmations.release(seq.last_seq());
    }
    void on_new_epoch(std::string_view epoch, std::uint64_t s) override {
        // Publications numbered in the lost epoch will never be delivered.
        confirmations.fail_other_epochs(epoch);
        if (handler) handler->on_reset(epoch, s);
        confirmations.release(seq.last_seq());
    }
    void on_history_gap(std::string_view epoch, std::uint64_t s) override {
        if (handler) handler->on_reset(epoch, s);
        confirmations.release(seq.last_seq());
    }

    // Redis could not be read: the client cannot be told what it missed, so
    // it resyncs.
    history_page unreadable_page() const {
        history_page page;
        page.result = history_page::status::gone;
        page.epoch = seq.epoch();
        page.last_seq = seq.last_seq();
        return page;
    }

    // A publish Redis answered: `done` once this node delivered it, as with
    // one server.
    void published(const redis::script_head& head, std::size_t n, const publish_handler& done) {
        const auto first = head.seq, last = first + n - 1;
        if (head.epoch == seq.epoch()) {
            if (seq.last_seq() >= last) return done({}, first);
        } else if (const auto left = seq.left_at(head.epoch)) {
            // An epoch this node already left: delivered then, or never.
            return *left >= last ? done({}, first) : done(errc::broker_unavailable, 0);
        }
        confirmations.add(head.epoch, last, [done, first](bool ok) {
            if (ok) done({}, first);
            else done(errc::broker_unavailable, 0);
        });
    }

    void stop() {
        if (stopped) return;
        stopped = true;
        catch_up_timer.cancel();
        handler = nullptr;
        conn->stop();
        confirmations.fail_all();
    }
};

redis_broker::redis_broker(asio::io_context& ioc, redis_options opts)
    : impl_(std::make_shared<impl>(ioc, std::move(opts))) {}

redis_broker::~redis_broker() { impl_->stop(); }

void redis_broker::start(broker_handler& handler) {
    auto& d = *impl_;
    d.initial_sync();
    d.handler = &handler;
    d.conn->start();
}

void redis_broker::stop() { impl_->stop(); }

void redis_broker::publish(std::span<const notification> batch, publish_handler done) {
    auto& d = *impl_;
    if (!d.can_publish()) {
        if (done) done(errc::broker_unavailable, 0);
        return;
    }
    if (batch.empty()) {
        if (done) done({}, d.seq.last_seq() + 1);
        return;
    }
    // Argument storage must outlive the call only: hiredis copies it.
    std::vector<std::string> bodies;
    bodies.reserve(batch.size());
    for (const auto& n : batch) bodies.push_back(notification_json_body(n));
    const std::string cand = core::random_epoch(), nonce = core::random_epoch();
    const std::string seen = std::to_string(d.seq.last_seq());
    std::vector<std::string_view> args{"EVALSHA", d.publish_sha, "4",   d.k_epoch,          d.k_seq,
                                       d.k_stream, d.k_channel,  d.maxlen, cand, d.seq.epoch(), seen,
                                       d.seq.last_nonce(), nonce};
    for (std::size_t k = 0; k < batch.size(); ++k) {
        args.push_back(batch[k].collection);
        args.push_back(batch[k].id ? std::string_view(*batch[k].id) : std::string_view());
        args.push_back(bodies[k]);
    }
    const std::size_t n = batch.size();
    const bool sent = d.command(args, [self = impl_, done, n](redisReply* r) {
        const auto head = redis::decode_head(r);
        if (!head) {
            if (r && r->type == REDIS_REPLY_ERROR) {
                const auto why = redis::reply_error(r);
                self->on_warning("redis_publish_refused", why);
                // Script cache flushed behind our back: load it again; the
                // hub retries the batch.
                if (why.starts_with("NOSCRIPT")) self->load_scripts();
            }
            if (done) done(errc::broker_unavailable, 0);
            return;
        }
        if (done) self->published(*head, n, done);
    });
    if (!sent && done) done(errc::broker_unavailable, 0);
}

void redis_broker::restart(std::function<void(std::error_code)> done) {
    auto& d = *impl_;
    if (!d.can_publish()) {
        if (done) done(errc::broker_unavailable);
        return;
    }
    const std::string cand = core::random_epoch();
    const bool sent = d.command({"EVAL", redis::restart_script, "4", d.k_epoch, d.k_seq, d.k_stream, d.k_channel, cand},
                                [self = impl_, cand, done](redisReply* r) {
                                    if (!r || r->type == REDIS_REPLY_ERROR) {
                                        if (done) done(errc::broker_unavailable);
                                        return;
                                    }
                                    // Our own announcement may still be on its way;
                                    // so may messages of the epoch we leave.
                                    if (self->handler && self->seq.epoch() != cand) self->seq.adopt(cand, 0);
                                    if (done) done({});
                                });
    if (!sent && done) done(errc::broker_unavailable);
}

void redis_broker::read(std::string_view epoch, std::uint64_t after, std::size_t max_count, read_handler done) {
    auto& d = *impl_;
    if (!d.conn->commands_up()) return done(d.unreadable_page());
    const std::string from = std::to_string(after + 1), count = std::to_string(max_count ? max_count : 1);
    const std::string want(epoch);
    const bool sent = d.command({"EVAL", redis::read_script, "3", d.k_epoch, d.k_seq, d.k_stream, from, count},
                                [self = impl_, want, after, done](redisReply* r) {
        auto snap = redis::decode_snapshot(r);
        if (!snap) return done(self->unreadable_page());
        history_page page;
        page.epoch = std::move(snap->epoch);
        page.last_seq = snap->last_seq;
        if (page.epoch != want || page.epoch != self->seq.epoch()) {
            page.result = history_page::status::unknown_epoch;
            return done(std::move(page));
        }
        if (after > page.last_seq) {
            page.result = history_page::status::future;
            return done(std::move(page));
        }
        for (auto& e : snap->entries) page.pubs.push_back(std::move(e.pub));
        if (after < page.last_seq && (page.pubs.empty() || page.pubs.front()->seq != after + 1)) {
            page.pubs.clear();
            page.result = history_page::status::gone;
        }
        done(std::move(page));
    });
    if (!sent) done(d.unreadable_page());
}

std::string redis_broker::epoch() const { return impl_->seq.epoch(); }
std::uint64_t redis_broker::last_seq() const { return impl_->seq.last_seq(); }
bool redis_broker::available() const noexcept { return impl_->conn->available(); }

broker_factory make_redis_broker(redis_options opts) {
    return [opts](asio::io_context& ioc) { return std::make_unique<redis_broker>(ioc, opts); };
}

}  // namespace notifier
