// SPDX-License-Identifier: MIT
#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>
#include <notifier/hub.hpp>

#include "hub_impl.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <utility>
#include <chrono>
#include <csignal>
#include <string>
#include <system_error>
#include <vector>

namespace notifier {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

thread_local const hub::impl* current_hub = nullptr;

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

unsigned shard_count(unsigned threads) {
    if (threads > 0) return threads;
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

void hub::impl::enter_thread(const impl* h) noexcept { current_hub = h; }
bool hub::impl::on_hub_thread() const noexcept { return current_hub == this; }

hub::impl::impl(options o, broker_factory make)
    : opts(std::move(o)), log(opts.log_level, opts.log_sink), hold_bytes_(0) {
    ioc.emplace(1);  // the intake: one thread owns the broker, no locks around it
    brk = make ? make(*ioc) : std::make_unique<memory_broker>(opts.history_size);
    const unsigned n = shard_count(opts.threads);
    shards.reserve(n);
    // Shard 0 runs on the intake's loop, so --threads N means N threads:
    // one thread is the whole hub, and an intake thread of its own would
    // mostly wait while taking a core's share from the shards.
    for (unsigned i = 0; i < n; ++i) shards.push_back(std::make_unique<shard>(*this, i, i == 0 ? &*ioc : nullptr));
    hold_bytes_ = fanout_budget();
}

hub::impl::~impl() { shutdown(); }

void hub::impl::shutdown() {
    // I/O objects must go before the loops that own their services.
    stop_timer_.reset();
    retry_timer_.reset();
    signals_.reset();
    listener_.reset();
    for (auto& s : shards) s->clear();
    // The broker's I/O objects (e.g. Redis connections) go first too.
    if (brk) {
        brk->stop();
        brk.reset();
    }
    // Handlers queued on the intake may hold sessions whose sockets belong
    // to a shard's loop: the intake's loop goes first.
    ioc.reset();
    shards.clear();
}

std::size_t hub::impl::fanout_budget() const noexcept {
    return std::clamp<std::size_t>(opts.max_queue_bytes / 4, 4096, 256 * 1024);
}

void hub::impl::close_inbox() { closed_.store(true, std::memory_order_seq_cst); }

// Producers wake the loop only when no drain is due: under a stream of
// notify() calls the loop keeps itself scheduled and nobody pays a wake-up.
void hub::impl::wake_drain() {
    if (drain_scheduled_.load(std::memory_order_seq_cst)) return;
    if (drain_scheduled_.exchange(true, std::memory_order_seq_cst)) return;
    asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::start_shards() {
    for (auto& s : shards) s->start_thread();
}

void hub::impl::join_shards() {
    for (auto& s : shards) s->join();
}

// --- the intake ---

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

bool hub::impl::shards_busy() const noexcept {
    for (const auto& s : shards)
        if (s->backlog_bytes() > hold_bytes_) return true;
    return false;
}

bool hub::impl::backlogged() const noexcept {
    for (const auto& s : shards)
        if (s->backlog_bytes() > fanout_limit_bytes) return true;
    return false;
}

void hub::impl::shard_drained() {
    // Dekker with drain_inbox(): the shard lowered its backlog before it
    // looks at the flag, the intake set the flag before it looks again at
    // the backlogs, so one of them sees the other.
    if (!waiting_for_shards_.load(std::memory_order_seq_cst) || shards_busy()) return;
    if (waiting_for_shards_.exchange(false, std::memory_order_seq_cst))
        asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::drain_inbox() {
    // Publish only while the shards keep up: the backlog then stays in the
    // bounded inbox, where notify() reports overloaded. A shard that falls
    // to hold_bytes_ calls shard_drained(), which resumes here.
    if (shards_busy()) {
        waiting_for_shards_.store(true, std::memory_order_seq_cst);
        if (shards_busy()) return;
        waiting_for_shards_.store(false, std::memory_order_seq_cst);
    }
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
    if (!stopping()) publish_batch(std::make_shared<pending_batch>(pending_batch{std::move(draining_), nullptr}));
    draining_.clear();
    // Stay scheduled for one more look while notifications keep coming.
    asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
}

void hub::impl::submit_confirmed(std::vector<notification>&& items, confirm_handler done) {
    if (stopping()) {
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
        if (self->stopping()) self->maybe_finish_stop();
        if (!ec) {
            if (batch->done) batch->done({}, first);
            return;
        }
        if (self->stopping()) {  // no retry any more: say so instead of keeping it
            if (batch->done) batch->done(errc::stopped, 0);
            return;
        }
        // notify() already said yes to these: keep them and try again.
        NOTIFIER_LOG_WARN(self->log, "publish_failed", {"error", ec.message()}, {"retrying", batch->items.size()});
        self->retry_.push_back(batch);
        self->schedule_retry();
    });
}

void hub::impl::publish_once(std::vector<notification> batch, broker::publish_handler done) {
    if (stopped_ || !brk) return done(errc::stopped, 0);
    // An empty batch publishes nothing: it asks whether a batch would be
    // taken now (GET /readyz), without a broker ever seeing an empty one.
    if (batch.empty()) {
        std::error_code ec;
        if (stopping()) ec = errc::stopped;
        else if (!brk->available()) ec = errc::broker_unavailable;
        return done(ec, 0);
    }
    ++publishes_in_flight_;
    brk->publish(batch, [self = shared_from_this(), done = std::move(done)](std::error_code ec, std::uint64_t first) {
        --self->publishes_in_flight_;
        done(ec, first);
        if (self->stopping()) self->maybe_finish_stop();
    });
}

void hub::impl::schedule_retry() {
    if (retry_scheduled_ || stopping()) return;
    retry_scheduled_ = true;
    if (!retry_timer_) retry_timer_ = std::make_unique<asio::steady_timer>(*ioc);
    retry_timer_->expires_after(std::chrono::milliseconds(250));
    retry_timer_->async_wait([this](const error_code& ec) {
        retry_scheduled_ = false;
        if (ec || stopping()) return;
        if (!brk->available()) return schedule_retry();
        auto pending = std::move(retry_);
        retry_.clear();
        for (auto& b : pending) publish_batch(std::move(b));
        asio::post(*ioc, [self = shared_from_this()] { self->drain_inbox(); });
    });
}

void hub::impl::on_publications(std::span<const publication_ptr> pubs) {
    if (pubs.empty()) return;
    const auto now = steady_ns();
    last_published_ = pubs.back()->seq;
    for (auto& s : shards) s->enqueue(pubs, now);
}

void hub::impl::on_reset(std::string_view new_epoch, std::uint64_t seq) {
    std::uint64_t sessions = 0;
    for (auto& s : shards) sessions += s->sessions();
    NOTIFIER_LOG_WARN(log, "history_reset", {"epoch", new_epoch}, {"seq", seq}, {"sessions", sessions});
    last_published_ = seq;
    for (auto& s : shards) s->enqueue_reset(std::string(new_epoch), seq);
}

void hub::impl::on_broker_warning(std::string_view event, std::string_view detail) {
    NOTIFIER_LOG_WARN(log, event, {"detail", detail});
}

void hub::impl::on_broker_info(std::string_view event, std::string_view detail) {
    NOTIFIER_LOG_INFO(log, event, {"detail", detail});
}

// --- stop ---

void hub::impl::begin_stop() {
    if (stopping()) return;
    close_inbox();
    // Whatever notify() accepted is published and reaches the shards ahead
    // of their close frames.
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
    stopping_.store(true, std::memory_order_release);
    std::uint64_t sessions = 0;
    for (auto& s : shards) sessions += s->sessions();
    NOTIFIER_LOG_INFO(log, "stopping", {"sessions", sessions}, {"last_seq", last_published_});
    if (listener_) listener_->close();
    if (retry_timer_) retry_timer_->cancel();
    if (signals_) signals_->cancel();
    shards_running_ = shards.size();
    for (auto& s : shards) s->begin_stop();
    stop_timer_ = std::make_unique<asio::steady_timer>(*ioc, opts.close_timeout);
    stop_timer_->async_wait([self = shared_from_this()](const error_code& ec) {
        if (ec) return;
        // Whatever is left is cut (each shard then reports itself empty),
        // and unanswered publishes are waited for no longer.
        self->deadline_passed_ = true;
        for (auto& s : self->shards) asio::post(s->loop(), [sh = s.get()] { sh->terminate_all(); });
        self->maybe_finish_stop();
    });
}

void hub::impl::shard_stopped() {
    asio::post(*ioc, [self = shared_from_this()] {
        if (self->shards_running_ > 0) --self->shards_running_;
        self->maybe_finish_stop();
    });
}

bool hub::impl::maybe_finish_stop() {
    if (!stopping() || stopped_ || shards_running_ > 0 || (publishes_in_flight_ > 0 && !deadline_passed_))
        return stopped_;
    finish_stop();
    return true;
}

void hub::impl::finish_stop() {
    if (stop_timer_) stop_timer_->cancel();
    if (!stopped_) NOTIFIER_LOG_INFO(log, "stopped", {"last_seq", last_published_});
    stopped_ = true;
    brk->stop();
    for (auto& s : shards) s->release_loop();
    ioc->stop();
}

// --- hub ---

hub::hub(options opts) : impl_(std::make_shared<impl>(std::move(opts), nullptr)) {}
hub::hub(options opts, broker_factory make) : impl_(std::make_shared<impl>(std::move(opts), std::move(make))) {}

hub::~hub() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->join_shards();
    // Frees handlers still queued on loops that never ran or were stopped.
    impl_->shutdown();
}

void hub::listen() { impl_->listen(); }

void hub::start() {
    impl_->listen();
    impl_->start_shards();
    impl_->thread = std::thread([i = impl_] {
        impl::enter_thread(i.get());
        i->ioc->run();
    });
}

void hub::run() {
    impl_->listen();
    impl_->start_shards();
    impl::enter_thread(impl_.get());
    impl_->ioc->run();
    impl::enter_thread(nullptr);
    impl_->join_shards();
}

void hub::stop() {
    impl_->close_inbox();  // at once, even if the loops never run again
    if (!impl_->ioc) return;
    if (!impl_->ioc->stopped()) asio::post(*impl_->ioc, [i = impl_] { i->begin_stop(); });
    if (impl_->on_hub_thread()) return;  // a loop cannot wait for itself
    if (impl_->thread.joinable()) {
        impl_->thread.join();
        impl_->join_shards();  // finish_stop() let their loops end
    }
}

std::uint16_t hub::port() const noexcept { return impl_->port.load(); }
const options& hub::config() const noexcept { return impl_->opts; }

hub_stats hub::impl::shard_totals() const {
    hub_stats s;
    bool first = true;
    for (const auto& sh : shards) {
        const auto& c = sh->counts();
        s.slow_consumers += c.slow_consumers.get();
        s.deliveries += c.deliveries.get();
        s.resyncs += c.resyncs.get();
        s.auth_failures += c.auth_failures.get();
        // Every shard fans out every publication: the node has dispatched
        // what its slowest shard has.
        const auto published = c.published.get(), last = sh->dispatched_seq();
        s.published = first ? published : std::min(s.published, published);
        s.last_seq = first ? last : std::min(s.last_seq, last);
        first = false;
    }
    return s;
}

hub_stats hub::stats() const {
    hub_stats s = impl_->shard_totals();
    s.connections_accepted = impl_->counts.accepted.get();
    s.connections_rejected = impl_->counts.rejected.get();
    for (const auto& sh : impl_->shards) s.sessions += sh->sessions();
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
