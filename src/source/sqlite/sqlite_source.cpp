// SPDX-License-Identifier: MIT
#include <notifier/errors.hpp>
#include <notifier/source/sqlite_source.hpp>

#include "source/sqlite/change_log.hpp"
#include "source/sqlite/sqlite_schema.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace notifier {

namespace {

constexpr auto max_retry_delay = std::chrono::seconds(2);

}  // namespace

struct sqlite_source::impl {
    impl(notifier n, sqlite_source_options o) : out(std::move(n)), opts(std::move(o)) {}

    notifier out;
    sqlite_source_options opts;
    std::unordered_map<std::string, std::string> collection_of;  // table → collection
    std::vector<std::string> collections;                         // for reset notifications

    std::unique_ptr<source::change_log> log;  // reader thread only, once started
    std::int64_t saved = 0;                   // position stored in the database
    bool pending_reset = false;               // emit `reset` before the next rows
    std::size_t page = 0;                     // rows per step: halved while the hub is overloaded

    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake_cv;
    std::condition_variable done_cv;
    bool running = false;
    bool stopping = false;
    bool woken = false;
    bool hub_stopped = false;
    std::uint64_t requested = 0;  // sync() calls so far
    std::uint64_t completed = 0;  // sync() calls answered by a complete drain
    std::atomic<std::int64_t> emitted{0};
    // For stats(): written by the reader thread, read by scrapes.
    std::atomic<bool> connected{false};
    std::atomic<std::uint64_t> changes{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::int64_t> waiting_since_ns{0};  // 0: nothing waits

    static std::int64_t steady_ns() noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    void note_waiting() noexcept {
        if (waiting_since_ns.load(std::memory_order_relaxed) == 0)
            waiting_since_ns.store(steady_ns(), std::memory_order_relaxed);
    }

    void report(std::string_view what) {
        if (opts.on_error)
            opts.on_error("sqlite_source(" + opts.path + "): " + std::string(what));
        else
            out.log(log_level::warn, "source_error", "sqlite", opts.path + ": " + std::string(what));
    }

    void run();
    bool drain();
    void save();
    std::vector<notification> to_notifications(std::vector<source::log_row>& rows);
};

std::vector<notification> sqlite_source::impl::to_notifications(std::vector<source::log_row>& rows) {
    std::vector<notification> batch;
    batch.reserve(rows.size() + (pending_reset ? collections.size() : 0));
    const bool gap = !rows.empty() && rows.front().id != emitted.load() + 1;
    if (gap || pending_reset) {
        // Rows we never read are gone: every watched collection may have
        // changed in ways we cannot name, so clients reload them.
        for (const auto& c : collections) batch.push_back(reset_notification(c));
    }
    for (auto& r : rows) {
        auto it = collection_of.find(r.table);
        if (it == collection_of.end()) continue;  // a table no longer watched
        notification n{.collection = it->second,
                       .action = std::move(r.op),
                       .id = std::move(r.key),
                       .data = std::move(r.data),
                       .old = std::move(r.old)};
        // A key or value the protocol cannot carry must not stall the log.
        if (n.id && !is_valid_id(*n.id)) {
            report("key of a " + r.table + " row is not a valid id (1-256 bytes of UTF-8); sent without id");
            n.id.reset();
        }
        // Data that cannot be sent (not valid JSON, or above
        // opts.max_data_bytes: never truncated, never a failure) goes as
        // data_omitted, as every change source does; then old goes too, so
        // that nothing of the row reaches readers whose filter it does not
        // match. An old that cannot be sent takes data with it: with data
        // alone, a filter the row left could not see it leave. With
        // neither, the change reaches every filter of the table.
        const bool data_bad = n.data && !is_valid_json(*n.data);
        const bool old_bad = n.old && !is_valid_json_object(*n.old);
        if (data_bad) report("data of " + r.table + " row is not valid JSON; sent as data_omitted");
        if (old_bad) report("old of " + r.table + " row is not a valid JSON object; sent without data and old");
        const bool data_lost = data_bad || (n.data && n.data->size() > opts.max_data_bytes);
        const bool old_lost = old_bad || (n.old && n.old->size() > opts.max_data_bytes);
        if ((data_lost || old_lost) && (n.data || n.old)) {
            n.data_omitted = n.data.has_value() || n.action == "update";
            n.data.reset();
            n.old.reset();
        }
        batch.push_back(std::move(n));
    }
    return batch;
}

// Emits everything committed so far, page by page. Returns true when rows
// are left for the next poll (the hub was overloaded).
bool sqlite_source::impl::drain() {
    while (true) {
        {
            std::lock_guard lock(mutex);
            if (stopping) break;
        }
        auto rows = log->read(emitted.load(), page);
        if (rows.empty() && !pending_reset) break;
        const auto last = rows.empty() ? emitted.load() : rows.back().id;
        const bool full = rows.size() == page;
        auto batch = to_notifications(rows);
        if (!batch.empty()) {
            const std::size_t count = batch.size();
            const auto ec = out.notify_batch(std::move(batch));
            if (ec == errc::overloaded || ec == errc::broker_unavailable) {
                note_waiting();
                // The same rows again later, fewer at a time: a batch larger
                // than the hub's inbox would never fit.
                page = std::max<std::size_t>(1, rows.size() / 2);
                return true;
            }
            if (ec == errc::stopped) {
                std::lock_guard lock(mutex);
                hub_stopped = true;
                done_cv.notify_all();
                break;
            }
            if (ec) report("notification refused (" + ec.message() + "); skipped");
            else changes.fetch_add(count, std::memory_order_relaxed);
        }
        emitted = last;
        pending_reset = false;
        page = std::min(opts.batch_size, page * 2);
        if (!full) break;
    }
    save();
    waiting_since_ns.store(0, std::memory_order_relaxed);
    return false;
}

void sqlite_source::impl::save() {
    const auto pos = emitted.load();
    if (pos == saved) return;
    log->save(pos);
    saved = pos;
}

void sqlite_source::impl::run() {
    std::int64_t version = -1;
    // Rows may be waiting without a new commit to announce them: from before
    // start(), after a failed step, or refused by an overloaded hub.
    bool must_look = true;
    bool at_once = true;
    unsigned failures = 0;
    while (true) {
        std::uint64_t target = 0;
        bool woke = false;
        {
            std::unique_lock lock(mutex);
            if (!at_once) {
                auto delay = opts.poll_interval;
                if (failures)
                    delay = std::min<std::chrono::milliseconds>(opts.poll_interval * (1u << std::min(failures, 6u)),
                                                                max_retry_delay);
                wake_cv.wait_for(lock, delay, [&] { return stopping || woken; });
            }
            at_once = false;
            if (stopping) break;
            woke = std::exchange(woken, false);
            target = requested;
            if (hub_stopped) continue;  // keep the position; stop() ends this
        }
        try {
            if (!log) log = std::make_unique<source::change_log>(opts.path, opts.busy_timeout);
            const auto v = log->data_version();
            const bool look = must_look || woke || v != version;
            version = v;
            connected.store(true, std::memory_order_relaxed);
            must_look = look && drain();
            failures = 0;
            if (!must_look) {
                std::lock_guard lock(mutex);
                if (!hub_stopped) completed = std::max(completed, target);
                done_cv.notify_all();
            }
        } catch (const source::sqlite_error& e) {
            report(e.what());
            ++failures;
            errors.fetch_add(1, std::memory_order_relaxed);
            must_look = true;
            // Busy: the connection is fine, another writer held the lock.
            // Anything else: start over with a fresh connection.
            if (!e.busy()) {
                log.reset();
                connected.store(false, std::memory_order_relaxed);
            }
        } catch (const std::exception& e) {
            report(e.what());
            ++failures;
            errors.fetch_add(1, std::memory_order_relaxed);
            must_look = true;
            log.reset();
            connected.store(false, std::memory_order_relaxed);
        }
    }
    try {
        if (log) save();
    } catch (const std::exception& e) {
        report(std::string("cannot save the position on stop: ") + e.what());
    }
    log.reset();
    connected.store(false, std::memory_order_relaxed);
}

sqlite_source::sqlite_source(notifier n, sqlite_source_options opts)
    : impl_(std::make_unique<impl>(std::move(n), std::move(opts))) {
    auto& o = impl_->opts;
    if (o.path.empty()) throw std::invalid_argument("sqlite_source: path is empty");
    if (o.tables.empty()) throw std::invalid_argument("sqlite_source: no table to watch");
    if (o.batch_size == 0) throw std::invalid_argument("sqlite_source: batch_size must be at least 1");
    if (o.max_data_bytes < 2) throw std::invalid_argument("sqlite_source: max_data_bytes must be at least 2");
    if (o.max_log_rows == 0) throw std::invalid_argument("sqlite_source: max_log_rows must be at least 1");
    if (o.poll_interval.count() <= 0) throw std::invalid_argument("sqlite_source: poll_interval must be positive");
    for (const auto& t : o.tables) {
        const auto& c = t.collection.empty() ? t.name : t.collection;
        if (!is_valid_collection(c))
            throw std::invalid_argument("sqlite_source: \"" + c + "\" is not a valid collection name " +
                                        "([A-Za-z0-9_.:-]{1,128}); map the table to one");
        if (!impl_->collection_of.emplace(t.name, c).second)
            throw std::invalid_argument("sqlite_source: table \"" + t.name + "\" is listed twice");
        if (std::find(impl_->collections.begin(), impl_->collections.end(), c) == impl_->collections.end())
            impl_->collections.push_back(c);
    }
}

sqlite_source::~sqlite_source() { stop(); }

void sqlite_source::start() {
    auto& i = *impl_;
    {
        std::lock_guard lock(i.mutex);
        if (i.running) return;
    }
    {
        source::sqlite_connection setup(i.opts.path, i.opts.busy_timeout);
        std::vector<source::capture_table> tables;
        for (const auto& t : i.opts.tables) tables.push_back(source::resolve(setup, t));
        source::install(setup, tables, i.opts.max_log_rows);
    }
    auto log = std::make_unique<source::change_log>(i.opts.path, i.opts.busy_timeout);
    const auto pos = log->load_position();
    i.emitted = pos.last_id;
    i.saved = pos.lost ? -1 : pos.last_id;  // a reset position is saved with the first drain
    i.pending_reset = pos.lost;
    i.page = i.opts.batch_size;
    i.log = std::move(log);
    {
        std::lock_guard lock(i.mutex);
        i.running = true;
        i.stopping = false;
        i.hub_stopped = false;
        i.woken = false;
    }
    i.thread = std::thread([&i] { i.run(); });
}

void sqlite_source::stop() {
    auto& i = *impl_;
    {
        std::lock_guard lock(i.mutex);
        if (!i.running) return;
        i.stopping = true;
    }
    i.wake_cv.notify_all();
    if (i.thread.joinable()) i.thread.join();
    std::lock_guard lock(i.mutex);
    i.running = false;
    i.stopping = false;
    i.done_cv.notify_all();
}

void sqlite_source::wake() noexcept {
    auto& i = *impl_;
    try {
        std::lock_guard lock(i.mutex);
        i.woken = true;
    } catch (...) {
        return;  // the next poll looks anyway
    }
    i.wake_cv.notify_one();
}

bool sqlite_source::sync(std::chrono::milliseconds timeout) {
    auto& i = *impl_;
    std::unique_lock lock(i.mutex);
    if (!i.running || i.stopping || i.hub_stopped) return false;
    const auto target = ++i.requested;
    i.woken = true;
    i.wake_cv.notify_one();
    i.done_cv.wait_for(lock, timeout, [&] { return i.completed >= target || !i.running || i.stopping || i.hub_stopped; });
    return i.completed >= target;
}

std::int64_t sqlite_source::position() const noexcept { return impl_->emitted.load(); }

sqlite_source_stats sqlite_source::stats() const noexcept {
    const auto& i = *impl_;
    sqlite_source_stats s;
    s.connected = i.connected.load(std::memory_order_relaxed);
    s.changes = i.changes.load(std::memory_order_relaxed);
    s.errors = i.errors.load(std::memory_order_relaxed);
    if (const auto since = i.waiting_since_ns.load(std::memory_order_relaxed); since != 0)
        s.lag_ms = double(std::max<std::int64_t>(0, impl::steady_ns() - since)) / 1e6;
    return s;
}

void sqlite_source::uninstall(const std::string& path) {
    source::sqlite_connection db(path, std::chrono::seconds(5));
    source::uninstall(db);
}

}  // namespace notifier
