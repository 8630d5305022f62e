// SPDX-License-Identifier: MIT
#include "shard.hpp"

#include <notifier/errors.hpp>

#include "hub_impl.hpp"
#include "net/tls_context.hpp"
#include "net/http_session.hpp"
#include "net/subscriber.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <unistd.h>

namespace notifier {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A descriptor on its way to another shard's loop: closed if the loop is
// destroyed before it runs the hand-over.
class handed_fd {
public:
    explicit handed_fd(int fd) noexcept : fd_(fd) {}
    handed_fd(handed_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    handed_fd& operator=(handed_fd&&) = delete;
    ~handed_fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

}  // namespace

shard::shard(hub::impl& hub, unsigned index, asio::io_context* shared_loop)
    : hub_(hub),
      opts_(hub.opts),
      log_(hub.log),
      index_no_(index),
      own_loop_(shared_loop ? nullptr : std::make_unique<asio::io_context>(1)),
      loop_(shared_loop ? shared_loop : own_loop_.get()),
      read_buffer_(256 * 1024) {
    if (own_loop_) work_.emplace(own_loop_->get_executor());
}

shard::~shard() {
    if (thread_.joinable()) {  // only when the hub was never stopped properly
        release_loop();
        if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
        else thread_.join();
    }
    clear();
    work_.reset();
    // Handlers still queued hold sessions that call back into this shard
    // when destroyed: the loop goes while the rest of the shard is intact.
    own_loop_.reset();
}

std::uint64_t shard::new_session_id() noexcept { return hub_.next_session_id.fetch_add(1, std::memory_order_relaxed) + 1; }
bool shard::auth_enabled() const noexcept { return hub_.auth_enabled(); }
const core::jwt_verifier& shard::verifier() const noexcept { return *hub_.verifier; }
bool shard::publish_key_ok(std::string_view authorization) const noexcept { return hub_.publish_key_ok(authorization); }
bool shard::backlogged() const noexcept { return hub_.backlogged(); }
std::shared_ptr<ssl_ctx_st> shard::tls_context() const { return hub_.tls ? hub_.tls->current() : nullptr; }

void shard::count_tls_handshake(tls_outcome o) {
    switch (o) {
        case tls_outcome::ok_kernel: counts_.tls_kernel.add(); [[fallthrough]];
        case tls_outcome::ok: counts_.tls_ok.add(); break;
        case tls_outcome::failed: counts_.tls_failed.add(); break;
        case tls_outcome::timeout: counts_.tls_timeout.add(); break;
        case tls_outcome::plain_http: counts_.tls_plain_http.add(); break;
    }
}

void shard::start(std::string epoch, std::uint64_t last_seq) {
    epoch_ = std::move(epoch);
    last_dispatched_ = last_seq;
    n_last_seq_.store(last_seq, std::memory_order_relaxed);
    schedule_ping();
    if (hub_.auth_enabled()) schedule_housekeeping();
}

void shard::start_thread() {
    if (!own_loop_ || thread_.joinable()) return;
    thread_ = std::thread([this] {
        hub::impl::enter_thread(&hub_);
        loop_->run();
    });
}

void shard::join() {
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void shard::release_loop() {
    work_.reset();
    loop_->stop();
}

void shard::clear() {
    ping_timer_.reset();
    housekeeping_timer_.reset();
    flush_timer_.reset();
    sessions_.clear();
    dirty_.clear();
    fanout_.clear();
    std::lock_guard lock(incoming_mutex_);
    incoming_.clear();
}

void shard::adopt(asio::ip::tcp::socket socket, std::unique_ptr<connection_slot> slot) {
    connections_.fetch_add(1, std::memory_order_relaxed);
    slot->assign(*this);
    if (&socket.get_executor().context() == loop_) {  // one loop: no hand-over
        std::make_shared<net::http_session>(*this, std::move(socket), std::move(slot))->run();
        return;
    }
    error_code ec;
    const auto protocol = socket.local_endpoint(ec).protocol();
    if (ec) return;  // already reset by the peer; the slot is released
    handed_fd fd(socket.release(ec));
    if (ec) return;
    asio::post(*loop_, [this, protocol, fd = std::move(fd), slot = std::move(slot)]() mutable {
        if (stopping_) return;
        error_code e;
        asio::ip::tcp::socket s(*loop_);
        s.assign(protocol, fd.release(), e);
        if (e) return;
        std::make_shared<net::http_session>(*this, std::move(s), std::move(slot))->run();
    });
}

// --- sessions ---

void shard::add_session(std::shared_ptr<net::subscriber> s) {
    for (const auto& t : s->parsed_topics()) subscribe(s.get(), t);
    sessions_.emplace(s.get(), std::move(s));
    n_sessions_.store(sessions_.size(), std::memory_order_relaxed);
}

void shard::remove_session(net::subscriber* s) {
    for (const auto& t : s->parsed_topics()) unsubscribe(s, t);
    if (s->dirty) {
        std::erase(dirty_, s);
        s->dirty = false;
    }
    sessions_.erase(s);
    n_sessions_.store(sessions_.size(), std::memory_order_relaxed);
    if (stopping_) maybe_stopped();
}

template <class F>
void shard::for_each_session(F&& f) {
    // On a copy: f may close sessions, which leave the set.
    std::vector<std::shared_ptr<net::subscriber>> all;
    all.reserve(sessions_.size());
    for (auto& [_, s] : sessions_) all.push_back(s);
    for (auto& s : all) f(*s);
}

void shard::mark_dirty(net::subscriber* s) {
    if (s->dirty) return;
    s->dirty = true;
    dirty_.push_back(s);
    if (!flush_posted_) {
        flush_posted_ = true;
        // Through a timer that is already due: it completes at this loop's
        // next poll of its sockets, together with whatever arrived by then,
        // and after the handlers already due in this turn. So publish
        // requests already received are read before the flush rather than
        // after it, and what they publish leaves in the same writes.
        if (!flush_timer_) flush_timer_ = std::make_unique<asio::steady_timer>(*loop_);
        flush_timer_->expires_at(asio::steady_timer::time_point::min());
        flush_timer_->async_wait([this](const error_code& ec) {
            if (!ec) flush_dirty();
        });
    }
}

bool shard::publications_coming() {
    if (hub_.posts_queued.load(std::memory_order_relaxed) > 0) return true;
    std::lock_guard lock(incoming_mutex_);
    return incoming_posted_;
}

void shard::flush_dirty() {
    // Publications already on their way (a POST /publish the intake has yet
    // to take up, a hand-over queued for this loop) join this flush: it
    // waits for the next hand-over, at most max_flush_deferrals times and
    // flush_wait_limit each, so a steady stream cannot hold the writes back.
    // At low load nothing is on its way and the flush is immediate.
    constexpr unsigned max_flush_deferrals = 4;
    constexpr auto flush_wait_limit = std::chrono::milliseconds(1);
    if (flush_deferrals_ < max_flush_deferrals && !stopping_ && publications_coming()) {
        ++flush_deferrals_;
        flush_waits_ = true;
        flush_timer_->expires_after(flush_wait_limit);
        flush_timer_->async_wait([this](const error_code& ec) {
            if (ec || !flush_waits_) return;
            flush_waits_ = false;
            flush_deferrals_ = max_flush_deferrals;  // nothing came in time: write now
            flush_dirty();
        });
        return;
    }
    flush_waits_ = false;
    flush_deferrals_ = 0;
    flush_posted_ = false;
    auto list = std::move(dirty_);
    dirty_.clear();
    for (auto* s : list) s->dirty = false;
    const auto start = steady_ns();
    for (auto* s : list) {
        // A session may leave the shard while an earlier one flushes.
        auto it = sessions_.find(s);
        if (it == sessions_.end()) continue;
        auto keep = it->second;
        keep->flush();
    }
    const auto end = steady_ns();
    counts_.flushes.add();
    flush_duration_.record(std::uint64_t(end - start));
    for (const auto received : unflushed_)
        fanout_latency_.record(std::uint64_t(std::max<std::int64_t>(0, end - received)));
    unflushed_.clear();
}

void shard::schedule_ping() {
    if (opts_.ping_interval.count() <= 0) return;
    if (!ping_timer_) ping_timer_ = std::make_unique<asio::steady_timer>(*loop_);
    ping_timer_->expires_after(opts_.ping_interval);
    ping_timer_->async_wait([this](const error_code& ec) {
        if (ec || stopping_) return;
        for_each_session([](net::subscriber& s) { s.ping_tick(); });
        schedule_ping();
    });
}

void shard::schedule_housekeeping() {
    // Token expiry needs second resolution; one timer serves every session.
    if (!housekeeping_timer_) housekeeping_timer_ = std::make_unique<asio::steady_timer>(*loop_);
    housekeeping_timer_->expires_after(std::chrono::seconds(1));
    housekeeping_timer_->async_wait([this](const error_code& ec) {
        if (ec || stopping_) return;
        const auto now = core::unix_now();
        for_each_session([now](net::subscriber& s) { s.check_expiry(now); });
        schedule_housekeeping();
    });
}

// --- requests to the intake, answered on this loop ---

void shard::read_history(std::string epoch, std::uint64_t after, std::size_t max_count, history_handler done) {
    asio::post(*hub_.ioc, [this, epoch = std::move(epoch), after, max_count, done = std::move(done)]() mutable {
        if (!hub_.brk) return;
        hub_.brk->read(epoch, after, max_count, [this, done = std::move(done)](history_page page) mutable {
            asio::post(*loop_, [done = std::move(done), page = std::move(page)]() mutable { done(std::move(page)); });
        });
    });
}

void shard::publish(std::vector<notification> batch, broker::publish_handler done) {
    hub_.posts_queued.fetch_add(1, std::memory_order_relaxed);
    asio::post(*hub_.ioc, [this, batch = std::move(batch), done = std::move(done)]() mutable {
        hub_.posts_queued.fetch_sub(1, std::memory_order_relaxed);
        // The handler holds its session: it is moved, never copied, so its
        // last reference dies on this shard's loop and not on the intake's.
        hub_.publish_once(std::move(batch), [this, done = std::move(done)](std::error_code ec, std::uint64_t first) mutable {
            asio::post(*loop_, [done = std::move(done), ec, first] { done(ec, first); });
        });
    });
}

void shard::render_metrics(std::function<void(std::string)> done) {
    // Each shard reports on its own loop; the last one renders and answers
    // here. Nothing of another shard is read from this thread.
    struct gathering {
        std::mutex mutex;
        std::vector<shard_snapshot> snaps;
        std::size_t remaining;
        std::function<void(std::string)> done;
    };
    auto g = std::make_shared<gathering>();
    g->snaps.resize(hub_.shards.size());
    g->remaining = hub_.shards.size();
    g->done = std::move(done);
    for (auto& s : hub_.shards) {
        asio::post(s->loop(), [this, g, from = s.get()] {
            auto snap = from->snapshot();
            std::lock_guard lock(g->mutex);
            g->snaps[from->index()] = std::move(snap);
            if (--g->remaining > 0) return;
            asio::post(*loop_, [this, g] {
                // Taken out of the gathering, whose last reference may be
                // dropped on another shard: the session it holds ends here.
                auto done = std::move(g->done);
                done(hub_.render_metrics(g->snaps));
            });
        });
    }
}

shard_snapshot shard::snapshot() const {
    shard_snapshot s;
    s.sessions = sessions_.size();
    for (const auto& [_, ws] : sessions_) {
        s.subscriptions += ws->parsed_topics().size();
        s.queued_bytes += ws->queued_bytes();
        s.sse_streams += ws->is_event_stream();
    }
    s.backlog_bytes = backlog_bytes();
    s.closes_by_code = closes_by_code_;
    s.sse_closes_by_code = sse_closes_by_code_;
    s.publish_by_status = publish_by_status_;
    s.flush_duration = flush_duration_;
    s.fanout_latency = fanout_latency_;
    return s;
}

// --- fan-out ---

void shard::enqueue(std::span<const publication_ptr> pubs, std::int64_t received_ns) {
    std::size_t bytes = 0;
    for (const auto& p : pubs) bytes += p->frame.size();
    backlog_bytes_.fetch_add(bytes, std::memory_order_seq_cst);
    bool post;
    {
        std::lock_guard lock(incoming_mutex_);
        for (const auto& p : pubs) incoming_.push_back(item{p, received_ns, nullptr, 0});
        post = !std::exchange(incoming_posted_, true);
    }
    if (post) asio::post(*loop_, [this] { take_incoming(); });
}

void shard::enqueue_reset(std::string epoch, std::uint64_t seq) {
    bool post;
    {
        std::lock_guard lock(incoming_mutex_);
        incoming_.push_back(item{nullptr, 0, std::make_shared<const std::string>(std::move(epoch)), seq});
        post = !std::exchange(incoming_posted_, true);
    }
    if (post) asio::post(*loop_, [this] { take_incoming(); });
}

void shard::take_incoming() {
    std::vector<item> got;
    {
        std::lock_guard lock(incoming_mutex_);
        got.swap(incoming_);
        incoming_posted_ = false;
    }
    const bool several = hub_.shards.size() > 1;
    for (auto& it : got) {
        if (it.pub && several) {
            // One reference to the shared publication per shard: sessions
            // copy a pointer whose count only this thread touches, instead
            // of every core contending for the publication's own count.
            auto holder = std::make_shared<publication_ptr>(std::move(it.pub));
            it.pub = publication_ptr(holder, holder->get());
        }
        fanout_.push_back(std::move(it));
    }
    if (backlog_bytes() > hub::impl::fanout_drop_bytes) return drop_backlog_and_resync();
    if (!fanout_running_) fanout_step();
    if (flush_waits_) {
        // What the waiting flush was waiting for has come.
        flush_waits_ = false;
        flush_timer_->cancel();
        flush_dirty();
    }
}

void shard::fanout_step(bool unbounded) {
    const std::size_t budget = unbounded ? SIZE_MAX : hub_.fanout_budget();
    std::size_t spent = 0, count = 0;
    std::uint64_t delivered = 0;
    while (!fanout_.empty() && spent < budget) {
        item next = std::move(fanout_.front());
        fanout_.pop_front();
        if (!next.pub) {  // a new epoch, in order with the publications
            epoch_ = *next.reset_epoch;
            resync_all(next.reset_seq);
            continue;
        }
        // Not a structured binding: clang before 16 cannot capture one below.
        const publication_ptr& pub = next.pub;
        spent += pub->frame.size();
        ++count;
        last_dispatched_ = pub->seq;
        const std::uint64_t before = delivered;
        core::lazy_rows rows(pub->json());  // read only if a filter or a filtered grant looks
        index_.match(
            pub->collection, pub->id, rows, [&](net::subscriber* s) { delivered += s->deliver(pub, rows); },
            [&](net::subscriber* s) { return !s->takes(pub->seq); });
        if (delivered != before) unflushed_.push_back(next.received_ns);
    }
    // Counted once per step: the per-delivery cost stays one local add.
    counts_.published.add(count);
    counts_.deliveries.add(delivered);
    n_last_seq_.store(last_dispatched_, std::memory_order_relaxed);
    backlog_bytes_.fetch_sub(spent, std::memory_order_seq_cst);
    fanout_running_ = !fanout_.empty();
    if (fanout_running_) asio::post(*loop_, [this] { fanout_step(); });
    hub_.shard_drained();
}

void shard::drop_backlog_and_resync() {
    std::uint64_t newest = last_dispatched_;
    std::size_t bytes = 0;
    for (const auto& it : fanout_) {
        if (it.pub) {
            newest = it.pub->seq;
            bytes += it.pub->frame.size();
        } else {
            epoch_ = *it.reset_epoch;
            newest = it.reset_seq;
        }
    }
    fanout_.clear();
    backlog_bytes_.fetch_sub(bytes, std::memory_order_seq_cst);
    NOTIFIER_LOG_WARN(log_, "fanout_backlog_dropped", {"shard", index_no_},
                      {"limit_bytes", hub::impl::fanout_drop_bytes}, {"resync_seq", newest});
    resync_all(newest);
    hub_.shard_drained();
}

void shard::resync_all(std::uint64_t seq) {
    unflushed_.clear();
    last_dispatched_ = seq;
    n_last_seq_.store(seq, std::memory_order_relaxed);
    for_each_session([&](net::subscriber& s) { s.resync(epoch_, seq); });
}

// --- stop ---

void shard::begin_stop() {
    asio::post(*loop_, [this] { do_begin_stop(); });
}

void shard::do_begin_stop() {
    if (stopping_) return;
    // Whatever was published reaches the sessions ahead of their close frames.
    take_incoming();
    while (!fanout_.empty()) fanout_step(true);
    stopping_ = true;
    if (ping_timer_) ping_timer_->cancel();
    if (housekeeping_timer_) housekeeping_timer_->cancel();
    for (auto* h : std::vector<net::http_session*>(http_sessions_.begin(), http_sessions_.end())) h->close();
    for_each_session([](net::subscriber& s) { s.shut_down(); });
    maybe_stopped();
}

void shard::terminate_all() {
    for_each_session([](net::subscriber& s) { s.terminate(); });
}

void shard::maybe_stopped() {
    if (!stopping_ || stop_reported_ || !sessions_.empty()) return;
    stop_reported_ = true;
    hub_.shard_stopped();
}

}  // namespace notifier
