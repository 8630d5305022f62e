#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>
#include <notifier/hub.hpp>

#include "core/topic.hpp"
#include "hub_impl.hpp"
#include "net/http_session.hpp"
#include "net/listener.hpp"
#include "net/websocket_session.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>
#include <chrono>
#include <csignal>

namespace notifier {

namespace asio = boost::asio;
using boost::system::error_code;

hub::impl::impl(options o, broker_factory make)
    : opts(std::move(o)), read_buffer(256 * 1024), log(opts.log_level, opts.log_sink) {
    ioc.emplace(1);  // one thread runs the loop: no locks on the hot path
    brk = make ? make(*ioc) : std::make_unique<memory_broker>(opts.history_size);
}

hub::impl::~impl() { shutdown(); }

void hub::impl::shutdown() {
    // I/O objects must go before the io_context that owns their services.
    ping_timer_.reset();
    housekeeping_timer_.reset();
    retry_timer_.reset();
    stop_timer_.reset();
    signals_.reset();
    listener_.reset();
    sessions_.clear();
    dirty_.clear();
    fanout_.clear();
    // The broker's I/O objects (e.g. Redis connections) go first too.
    if (brk) {
        brk->stop();
        brk.reset();
    }
    ioc.reset();
}

void hub::impl::close_inbox() { closed_.store(true, std::memory_order_seq_cst); }

// Producers wake the loop only when no drain is due: under a stream of
// notify() calls the loop keeps itself scheduled and nobody pays a wake-up.
void hub::impl::wake_drain() {
    if (drain_scheduled_.load(std::memory_order_seq_cst)) return;
    if (drain_scheduled_.exchange(true, std::memory_order_seq_cst)) return;
    asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::listen() {
    if (listener_) return;
    if (!opts.jwt_secret.empty() && !opts.jwt_public_key_pem.empty())
        throw std::invalid_argument("configure either a JWT secret (HS256) or a public key (RS256/ES256), not both");
    if (!opts.jwt_secret.empty()) verifier = core::jwt_verifier::hs256(opts.jwt_secret);
    if (!opts.jwt_public_key_pem.empty()) verifier = core::jwt_verifier::from_public_key_pem(opts.jwt_public_key_pem);
    if (verifier) {
        verifier->require_issuer(opts.jwt_issuer);
        verifier->require_audience(opts.jwt_audience);
        verifier->set_leeway(opts.jwt_leeway.count());
    }
    const auto addr = asio::ip::make_address(opts.listen_host);
    listener_ = std::make_shared<net::listener>(*this, asio::ip::tcp::endpoint(addr, opts.listen_port));
    port = listener_->port();
    brk->start(*this);
    epoch = brk->epoch();
    last_dispatched = brk->last_seq();
    n_last_seq = last_dispatched;
    listener_->run();
    NOTIFIER_LOG_INFO(log, "listening", {"host", opts.listen_host}, {"port", port.load()}, {"epoch", epoch},
                      {"last_seq", last_dispatched}, {"auth", auth_enabled()}, {"metrics", opts.metrics});
    schedule_ping();
    if (verifier) schedule_housekeeping();
    if (opts.handle_signals) {
        signals_ = std::make_unique<asio::signal_set>(*ioc, SIGINT, SIGTERM);
        signals_->async_wait([self = shared_from_this()](const error_code& ec, int) {
            if (!ec) self->begin_stop();
        });
    }
}

void hub::impl::schedule_ping() {
    if (opts.ping_interval.count() <= 0) return;
    if (!ping_timer_) ping_timer_ = std::make_unique<asio::steady_timer>(*ioc);
    ping_timer_->expires_after(opts.ping_interval);
    ping_timer_->async_wait([this](const error_code& ec) {
        if (ec || stopping_) return;
        for_each_session([](net::websocket_session& s) { s.ping_tick(); });
        schedule_ping();
    });
}

void hub::impl::schedule_housekeeping() {
    // Token expiry needs second resolution; one timer serves every session.
    if (!housekeeping_timer_) housekeeping_timer_ = std::make_unique<asio::steady_timer>(*ioc);
    housekeeping_timer_->expires_after(std::chrono::seconds(1));
    housekeeping_timer_->async_wait([this](const error_code& ec) {
        if (ec || stopping_) return;
        const auto now = core::unix_now();
        for_each_session([now](net::websocket_session& s) { s.check_expiry(now); });
        schedule_housekeeping();
    });
}

connection_slot::~connection_slot() { hub_.release_slot(ip_, per_ip_); }

std::unique_ptr<connection_slot> hub::impl::acquire_slot(const asio::ip::address& ip) {
    if (open_connections_ >= opts.max_connections) return nullptr;
    // On a dual-stack listener IPv4 clients arrive as ::ffff:a.b.c.d.
    const bool loopback = ip.is_loopback() ||
                          (ip.is_v6() && ip.to_v6().is_v4_mapped() &&
                           asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6()).is_loopback());
    const bool per_ip = opts.limit_loopback || !loopback;
    std::string key = ip.to_string();
    if (per_ip) {
        auto& n = per_ip_[key];
        if (n >= opts.max_connections_per_ip) return nullptr;
        ++n;
    }
    ++open_connections_;
    return std::make_unique<connection_slot>(*this, std::move(key), per_ip);
}

void hub::impl::release_slot(const std::string& ip, bool per_ip) {
    --open_connections_;
    if (!per_ip) return;
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

bool hub::impl::publish_key_ok(std::string_view authorization) const noexcept {
    if (opts.publish_keys.empty()) return true;
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size() || !boost::beast::iequals(authorization.substr(0, scheme.size()), scheme))
        return false;
    const auto key = authorization.substr(scheme.size());
    // Constant time in the key's content: every configured key is compared.
    bool ok = false;
    for (const auto& k : opts.publish_keys)
        if (k.size() == key.size() && CRYPTO_memcmp(k.data(), key.data(), k.size()) == 0) ok = true;
    return ok;
}

std::error_code hub::impl::submit(notification&& n) {
    if (!brk->available()) return errc::broker_unavailable;
    if (closed_.load(std::memory_order_acquire)) return errc::stopped;
    if (inbox_.size() >= opts.max_pending_notifications) return errc::overloaded;
    inbox_.push(std::move(n));
    wake_drain();
    return {};
}

std::error_code hub::impl::submit(std::string_view collection, std::string_view action,
                                  std::optional<std::string_view> id, std::optional<std::string_view> data_json) {
    if (!brk->available()) return errc::broker_unavailable;
    if (closed_.load(std::memory_order_acquire)) return errc::stopped;
    if (inbox_.size() >= opts.max_pending_notifications) return errc::overloaded;
    inbox_.push(collection, action, id, data_json);
    wake_drain();
    return {};
}

std::error_code hub::impl::submit(std::vector<notification>&& batch) {
    if (batch.empty()) return {};
    if (!brk->available()) return errc::broker_unavailable;
    if (closed_.load(std::memory_order_acquire)) return errc::stopped;
    // Batches are admitted one at a time: checked separately, racing batches
    // all fit the same free room. Single notify() calls stay lock-free; they
    // can exceed the limit by at most one each while racing for its last
    // room (a soft limit, documented).
    std::lock_guard lock(batch_admission_);
    if (inbox_.size() + batch.size() > opts.max_pending_notifications) return errc::overloaded;
    inbox_.push_batch(std::move(batch));
    wake_drain();
    return {};
}

void hub::impl::drain_inbox() {
    // Publish only once earlier publications are fanned out: the backlog
    // then stays in the bounded inbox, where notify() reports overloaded.
    if (!fanout_.empty()) return;  // fanout_step() calls again when done
    if (!retry_.empty()) return schedule_retry();  // older batches first
    draining_.clear();
    // Sized up front: the vector moves on with the batch, and growing it
    // item by item would copy every notification several times.
    draining_.reserve(std::min<std::size_t>(inbox_.size(), 4096));
    inbox_.drain(draining_, 4096);
    if (draining_.empty()) {
        drain_scheduled_.store(false, std::memory_order_seq_cst);
        // A push that saw the flag still set must not be left behind.
        if (inbox_.size() > 0) wake_drain();
        return;
    }
    if (!stopping_) publish_batch(std::make_shared<pending_batch>(pending_batch{std::move(draining_), nullptr}));
    draining_.clear();
    // Stay scheduled for one more look while notifications keep coming.
    asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::submit_confirmed(std::vector<notification>&& items, confirm_handler done) {
    if (stopping_) {
        if (done) done(errc::stopped, 0);
        return;
    }
    auto batch = std::make_shared<pending_batch>(pending_batch{std::move(items), std::move(done)});
    if (!retry_.empty()) {  // older batches first
        retry_.push_back(std::move(batch));
        return schedule_retry();
    }
    publish_batch(std::move(batch));
}

void hub::impl::publish_batch(std::shared_ptr<pending_batch> batch) {
    ++publishes_in_flight_;
    brk->publish(batch->items, [self = shared_from_this(), batch](std::error_code ec, std::uint64_t first) {
        --self->publishes_in_flight_;
        if (self->stopping_) self->maybe_finish_stop();
        if (!ec) {
            if (batch->done) batch->done({}, first);
            return;
        }
        if (self->stopping_) {  // no retry any more: say so instead of keeping it
            if (batch->done) batch->done(errc::stopped, 0);
            return;
        }
        // notify() already said yes to these: keep them and try again.
        NOTIFIER_LOG_WARN(self->log, "publish_failed", {"error", ec.message()}, {"retrying", batch->items.size()});
        self->retry_.push_back(batch);
        self->schedule_retry();
    });
}

void hub::impl::schedule_retry() {
    if (retry_scheduled_ || stopping_) return;
    retry_scheduled_ = true;
    if (!retry_timer_) retry_timer_ = std::make_unique<asio::steady_timer>(*ioc);
    retry_timer_->expires_after(std::chrono::milliseconds(250));
    retry_timer_->async_wait([this](const error_code& ec) {
        retry_scheduled_ = false;
        if (ec || stopping_) return;
        if (!brk->available()) return schedule_retry();
        auto pending = std::move(retry_);
        retry_.clear();
        for (auto& b : pending) publish_batch(std::move(b));
        asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
    });
}

namespace {

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void hub::impl::on_publications(std::span<const publication_ptr> pubs) {
    const auto now = steady_ns();
    for (const auto& pub : pubs) {
        fanout_bytes_ += pub->frame.size();
        fanout_.push_back({pub, now});
    }
    if (fanout_bytes_ > fanout_drop_bytes) return drop_backlog_and_resync();
    if (!fanout_running_) fanout_step();
}

void hub::impl::drop_backlog_and_resync() {
    const std::uint64_t newest = fanout_.back().pub->seq;
    NOTIFIER_LOG_WARN(log, "fanout_backlog_dropped", {"limit_bytes", fanout_drop_bytes}, {"resync_seq", newest});
    resync_all(newest);
}

void hub::impl::resync_all(std::uint64_t seq) {
    fanout_.clear();
    fanout_bytes_ = 0;
    unflushed_.clear();
    last_dispatched = seq;
    n_last_seq.store(seq, std::memory_order_relaxed);
    for_each_session([&](net::websocket_session& s) { s.resync(epoch, seq); });
}

void hub::impl::fanout_step(bool unbounded) {
    // A quarter of a client's queue per turn: a client that reads at all
    // keeps up, and the loop still writes hundreds of frames per writev.
    const std::size_t budget = unbounded ? SIZE_MAX : std::clamp<std::size_t>(opts.max_queue_bytes / 4, 4096, 256 * 1024);
    std::size_t spent = 0, count = 0;
    std::uint64_t delivered = 0;
    while (!fanout_.empty() && spent < budget) {
        // Not a structured binding: clang before 16 cannot capture one below.
        const waiting_publication next = std::move(fanout_.front());
        const publication_ptr& pub = next.pub;
        fanout_.pop_front();
        fanout_bytes_ -= pub->frame.size();
        spent += pub->frame.size();
        ++count;
        last_dispatched = pub->seq;
        const std::uint64_t before = delivered;
        index.match(pub->collection, pub->id, [&](net::websocket_session* s) { delivered += s->deliver(pub); });
        if (delivered != before) unflushed_.push_back(next.received_ns);
    }
    // Counted once per step: the per-delivery cost stays one local add.
    counts.published.add(count);
    counts.deliveries.add(delivered);
    n_last_seq.store(last_dispatched, std::memory_order_relaxed);
    if (!fanout_.empty()) {
        fanout_running_ = true;
        asio::post(*ioc, [self = shared_from_this()] { self->fanout_step(); });
        return;
    }
    fanout_running_ = false;
    // drain_inbox() may have deferred to us while drain_scheduled_ stays set.
    asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::on_reset(std::string_view new_epoch, std::uint64_t seq) {
    NOTIFIER_LOG_WARN(log, "history_reset", {"epoch", new_epoch}, {"seq", seq}, {"sessions", sessions_.size()});
    epoch = new_epoch;
    resync_all(seq);
}

void hub::impl::on_broker_warning(std::string_view event, std::string_view detail) {
    NOTIFIER_LOG_WARN(log, event, {"detail", detail});
}

void hub::impl::add_session(std::shared_ptr<net::websocket_session> s) {
    for (const auto& t : s->topics()) {
        auto p = core::parse_topic(t);
        index.add(p->collection, p->id, s.get());
    }
    sessions_.emplace(s.get(), std::move(s));
    n_sessions.store(sessions_.size(), std::memory_order_relaxed);
}

void hub::impl::remove_session(net::websocket_session* s) {
    for (const auto& t : s->topics()) {
        auto p = core::parse_topic(t);
        index.remove(p->collection, p->id, s);
    }
    if (s->dirty) {
        std::erase(dirty_, s);
        s->dirty = false;
    }
    sessions_.erase(s);
    n_sessions.store(sessions_.size(), std::memory_order_relaxed);
    if (stopping_) maybe_finish_stop();
}

void hub::impl::mark_dirty(net::websocket_session* s) {
    if (s->dirty) return;
    s->dirty = true;
    dirty_.push_back(s);
    if (!flush_posted_) {
        flush_posted_ = true;
        // Runs after the handlers already due in this turn, so everything
        // they publish leaves in one write per session.
        asio::post(*ioc, [self = shared_from_this()] { self->flush_dirty(); });
    }
}

void hub::impl::flush_dirty() {
    flush_posted_ = false;
    auto list = std::move(dirty_);
    dirty_.clear();
    for (auto* s : list) s->dirty = false;
    const auto start = steady_ns();
    for (auto* s : list) {
        // A session may leave the hub while an earlier one flushes.
        auto it = sessions_.find(s);
        if (it == sessions_.end()) continue;
        auto keep = it->second;
        keep->flush();
    }
    const auto end = steady_ns();
    flush_duration_.record(std::uint64_t(end - start));
    for (const auto received : unflushed_) fanout_latency_.record(std::uint64_t(std::max<std::int64_t>(0, end - received)));
    unflushed_.clear();
}

void hub::impl::begin_stop() {
    if (stopping_) return;
    close_inbox();
    // Whatever notify() accepted is published and queued to the sessions
    // ahead of their close frames.
    draining_.clear();
    inbox_.drain(draining_, static_cast<std::size_t>(-1));
    // Retries first (older), then the inbox: last chance, in order. The
    // broker is stopped only once every publish is answered (or at the stop
    // deadline): a networked broker may still hold them unsent.
    if (!draining_.empty()) retry_.push_back(std::make_shared<pending_batch>(pending_batch{std::move(draining_), nullptr}));
    draining_.clear();
    for (auto& b : retry_) {
        ++publishes_in_flight_;
        brk->publish(b->items, [self = shared_from_this(), b](std::error_code ec, std::uint64_t first) {
            if (b->done) b->done(ec ? std::error_code(errc::stopped) : ec, first);
            --self->publishes_in_flight_;
            self->maybe_finish_stop();
        });
    }
    retry_.clear();
    while (!fanout_.empty()) fanout_step(true);
    stopping_ = true;
    NOTIFIER_LOG_INFO(log, "stopping", {"sessions", sessions_.size()}, {"last_seq", last_dispatched});
    if (listener_) listener_->close();
    if (ping_timer_) ping_timer_->cancel();
    if (housekeeping_timer_) housekeeping_timer_->cancel();
    if (retry_timer_) retry_timer_->cancel();
    if (signals_) signals_->cancel();
    for (auto* h : std::vector<net::http_session*>(http_sessions_.begin(), http_sessions_.end())) h->close();
    for_each_session([](net::websocket_session& s) { s.close(close_code::going_away, "server shutdown"); });
    if (maybe_finish_stop()) return;
    stop_timer_ = std::make_unique<asio::steady_timer>(*ioc, opts.close_timeout);
    stop_timer_->async_wait([self = shared_from_this()](const error_code& ec) {
        if (ec) return;
        self->for_each_session([](net::websocket_session& s) { s.terminate(); });
        self->finish_stop();
    });
}

bool hub::impl::maybe_finish_stop() {
    if (!stopping_ || stopped_ || !sessions_.empty() || publishes_in_flight_ > 0) return stopped_;
    finish_stop();
    return true;
}

void hub::impl::finish_stop() {
    if (stop_timer_) stop_timer_->cancel();
    if (!stopped_) NOTIFIER_LOG_INFO(log, "stopped", {"last_seq", last_dispatched});
    stopped_ = true;
    brk->stop();
    ioc->stop();
}

// --- hub ---

hub::hub(options opts) : impl_(std::make_shared<impl>(std::move(opts), nullptr)) {}
hub::hub(options opts, broker_factory make) : impl_(std::make_shared<impl>(std::move(opts), std::move(make))) {}

hub::~hub() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    // Frees handlers still queued on a loop that never ran or was stopped.
    impl_->shutdown();
}

void hub::listen() { impl_->listen(); }

void hub::start() {
    impl_->listen();
    impl_->thread = std::thread([i = impl_] { i->ioc->run(); });
}

void hub::run() {
    impl_->listen();
    impl_->ioc->run();
}

void hub::stop() {
    impl_->close_inbox();  // at once, even if the loop never runs again
    if (!impl_->ioc) return;
    if (impl_->thread.joinable() && impl_->thread.get_id() == std::this_thread::get_id()) {
        impl_->begin_stop();
        return;
    }
    if (!impl_->ioc->stopped()) asio::post(*impl_->ioc, [i = impl_] { i->begin_stop(); });
    if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t hub::port() const noexcept { return impl_->port.load(); }
const options& hub::config() const noexcept { return impl_->opts; }

hub_stats hub::stats() const {
    const auto& c = impl_->counts;
    hub_stats s;
    s.sessions = impl_->n_sessions.load(std::memory_order_relaxed);
    s.published = c.published.get();
    s.slow_consumers = c.slow_consumers.get();
    s.last_seq = impl_->n_last_seq.load(std::memory_order_relaxed);
    s.deliveries = c.deliveries.get();
    s.resyncs = c.resyncs.get();
    s.connections_accepted = c.accepted.get();
    s.connections_rejected = c.rejected.get();
    s.auth_failures = c.auth_failures.get();
    return s;
}

metrics_registration hub::add_source_metrics(std::string name, source_metrics_reader read) {
    const auto id = impl_->sources->add(std::move(name), std::move(read));
    return metrics_registration(impl_->sources, id);
}

std::error_code hub::submit(std::vector<notification>&& batch) { return impl_->submit(std::move(batch)); }
std::error_code hub::submit(notification&& n) { return impl_->submit(std::move(n)); }
std::error_code hub::submit(std::string_view collection, std::string_view action, std::optional<std::string_view> id,
                            std::optional<std::string_view> data_json) {
    return impl_->submit(collection, action, id, data_json);
}

void hub::log(log_level level, std::string_view event, std::string_view source, std::string_view detail) const {
    if (impl_->log.enabled(level)) impl_->log.write(level, event, {{"source", source}, {"detail", detail}});
}

namespace {

// Holds a completion handler posted to the loop and calls it exactly once:
// by whoever take()s it, or with errc::stopped when the posted work is
// destroyed unrun (the loop stopped first).
template <class... Rest>
class answer_once {
public:
    using handler = std::function<void(std::error_code, Rest...)>;
    explicit answer_once(handler f) : f_(std::move(f)) {}
    answer_once(answer_once&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    answer_once& operator=(answer_once&&) = delete;
    ~answer_once() {
        if (f_) f_(errc::stopped, Rest()...);
    }
    handler take() noexcept { return std::exchange(f_, nullptr); }

private:
    handler f_;
};

}  // namespace

void hub::resync(std::function<void(std::error_code)> done) {
    if (impl_->inbox_closed()) {  // stopping or stopped: the loop may never run this
        if (done) done(errc::stopped);
        return;
    }
    asio::post(*impl_->ioc, [self = impl_, answer = answer_once<>(std::move(done))]() mutable {
        auto done = answer.take();
        if (self->stopping()) {
            if (done) done(errc::stopped);
            return;
        }
        self->brk->restart(std::move(done));
    });
}

void hub::submit_confirmed(std::vector<notification>&& batch, confirm_handler done) {
    if (impl_->inbox_closed()) {  // stopping or stopped: the loop may never run this
        if (done) done(errc::stopped, 0);
        return;
    }
    asio::post(*impl_->ioc, [self = impl_, batch = std::move(batch),
                             answer = answer_once<std::uint64_t>(std::move(done))]() mutable {
        self->submit_confirmed(std::move(batch), answer.take());
    });
}

}  // namespace notifier
