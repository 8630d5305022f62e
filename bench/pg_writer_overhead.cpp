// SPDX-License-Identifier: MIT
// What PostgreSQL change capture costs the writer: per-insert latency and
// inserts/s of single-row autocommit INSERTs, with and without capture.
//
//   pg_writer_overhead --replica URL --logical URL [--count 5000] [--clients 1,8]
//                      [--runs 3] [--scenarios a,b,c,d]
//
// Scenarios, each on a freshly created table and after a CHECKPOINT:
//   a  wal_level=replica server, nothing else (capture impossible: the baseline)
//   b  wal_level=logical server, no slot, no source
//   c  wal_level=logical, slot + publication and a postgres_source streaming
//      into a counting sink in this process; checks it emitted exactly N
//   d  wal_level=replica, an AFTER INSERT trigger calling pg_notify with the row
//      as JSON, and a LISTEN-ing connection draining; checks it got exactly N
// Runs are interleaved (run 1: a b c d, run 2: a b c d, ...) so that changes in
// background load hit every scenario alike; the table shows medians over runs.
// bench/pg-writer-overhead starts the two servers and runs this.

#include <notifier/source/postgres_source.hpp>

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

/// One blocking connection; throws with the server's message.
class pg_conn {
public:
    explicit pg_conn(const std::string& url) : c_(PQconnectdb(url.c_str())) {
        if (PQstatus(c_) != CONNECTION_OK) {
            std::string why = PQerrorMessage(c_);
            PQfinish(c_);
            throw std::runtime_error("connect " + url + ": " + why);
        }
        // DROP ... IF EXISTS says what it skipped: not worth a line of output.
        PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
    }
    ~pg_conn() { PQfinish(c_); }
    pg_conn(const pg_conn&) = delete;
    pg_conn& operator=(const pg_conn&) = delete;

    std::string exec(const std::string& sql) { return check(PQexec(c_, sql.c_str()), sql); }
    PGconn* get() { return c_; }

    /// Clears `r`; throws unless it succeeded. Returns the first value ("" if none).
    std::string check(PGresult* r, const std::string& what) {
        const auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            std::string why = r ? PQresultErrorMessage(r) : PQerrorMessage(c_);
            PQclear(r);
            throw std::runtime_error(what.substr(0, 120) + ": " + why);
        }
        std::string out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        return out;
    }

private:
    PGconn* c_;
};

constexpr const char* table_sql =
    "DROP TABLE IF EXISTS bench_rows CASCADE;"
    "CREATE TABLE bench_rows (id serial PRIMARY KEY, author text NOT NULL, title text NOT NULL,"
    " body text NOT NULL, score integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())";

constexpr const char* trigger_sql =
    "CREATE OR REPLACE FUNCTION bench_rows_notify() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN PERFORM pg_notify('bench_rows', row_to_json(NEW)::text); RETURN NEW; END $$;"
    "CREATE TRIGGER bench_rows_notify AFTER INSERT ON bench_rows"
    " FOR EACH ROW EXECUTE FUNCTION bench_rows_notify()";

/// Per-insert latencies (µs) of one run and its wall time.
struct run_result {
    std::vector<double> latency_us;
    double seconds = 0;
    std::uint64_t wal_bytes = 0;
};

/// `count` autocommit single-row INSERTs spread over `clients` connections,
/// all started together once every connection is ready. A row is about 200 bytes.
run_result write_rows(const std::string& url, std::size_t count, std::size_t clients) {
    std::vector<std::unique_ptr<pg_conn>> conns;
    for (std::size_t k = 0; k < clients; ++k) {
        conns.push_back(std::make_unique<pg_conn>(url));
        conns.back()->check(PQprepare(conns.back()->get(), "ins",
                                      "INSERT INTO bench_rows (author, title, body, score) VALUES ($1, $2, $3, $4)",
                                      4, nullptr),
                            "prepare");
    }
    std::vector<std::vector<double>> lat(clients);
    std::latch ready(static_cast<std::ptrdiff_t>(clients) + 1);
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < clients; ++k) {
        const std::size_t n = count / clients + (k < count % clients ? 1 : 0);
        threads.emplace_back([&, k, n] {
            auto& c = *conns[k];
            lat[k].reserve(n);
            const std::string author = "writer-" + std::to_string(k);
            ready.arrive_and_wait();
            for (std::size_t i = 0; i < n && !failed; ++i) {
                const std::string title = "Post " + std::to_string(i) + " by " + author;
                std::string body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
                                   "incididunt ut labore et dolore magna aliqua. Row ";
                body += std::to_string(k * 1'000'000 + i);
                const std::string score = std::to_string(i % 997);
                const char* values[4] = {author.c_str(), title.c_str(), body.c_str(), score.c_str()};
                const auto t0 = clock_type::now();
                PGresult* r = PQexecPrepared(c.get(), "ins", 4, values, nullptr, nullptr, 0);
                const auto t1 = clock_type::now();
                try {
                    c.check(r, "insert");
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "pg_writer_overhead: %s\n", e.what());
                    failed = true;
                    break;
                }
                lat[k].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
            }
        });
    }
    const auto start = clock_type::now();
    ready.arrive_and_wait();
    for (auto& t : threads) t.join();
    if (failed) throw std::runtime_error("an insert failed");
    run_result res;
    res.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    for (auto& l : lat) res.latency_us.insert(res.latency_us.end(), l.begin(), l.end());
    return res;
}

/// Counts NOTIFYs on `channel` on a thread of its own until stopped.
class listener {
public:
    listener(const std::string& url, const std::string& channel) : c_(url) {
        c_.exec("LISTEN " + channel);
        thread_ = std::thread([this] { run(); });
    }
    ~listener() {
        stop_ = true;
        thread_.join();
    }
    std::uint64_t count() const { return count_.load(); }

private:
    void run() {
        pollfd p{PQsocket(c_.get()), POLLIN, 0};
        while (!stop_) {
            if (::poll(&p, 1, 20) < 0) continue;
            if (!PQconsumeInput(c_.get())) {
                std::fprintf(stderr, "pg_writer_overhead: listener: %s", PQerrorMessage(c_.get()));
                return;
            }
            while (PGnotify* n = PQnotifies(c_.get())) {
                count_.fetch_add(1);
                PQfreemem(n);
            }
        }
    }
    pg_conn c_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> count_{0};
    std::thread thread_;
};

/// What a run delivered to its consumer, and how long after the last insert.
struct delivery {
    std::uint64_t got = 0;
    double catch_up_ms = 0;
};

struct sample {
    double p50 = 0, p99 = 0, mean = 0, rate = 0, wal_per_insert = 0;
    delivery d;
};

double percentile(std::vector<double>& v, double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::uint64_t wal_lsn(pg_conn& admin) {
    return std::strtoull(admin.exec("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").c_str(), nullptr, 10);
}

/// Uninstalls once the slot is released: after stop() the server ends the
/// walsender asynchronously, and dropping a slot still active fails.
void uninstall_when_released(pg_conn& admin, const notifier::postgres_source_options& o) {
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (admin.exec("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" + o.slot + "'") != "0") {
        if (clock_type::now() > deadline) throw std::runtime_error("slot " + o.slot + " stays active 10 s after stop()");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    notifier::postgres_source::uninstall(o);
}

/// One run of one scenario; throws on a setup failure or a lost notification.
sample run_scenario(char scenario, const std::string& url, std::size_t count, std::size_t clients) {
    pg_conn admin(url);
    notifier::postgres_source_options o;
    o.conninfo = url;
    o.tables = {"bench_rows"};
    o.slot = "bench_writer_overhead";
    o.publication = "bench_writer_overhead";
    o.install = true;
    o.on_error = [](std::string_view m) { std::fprintf(stderr, "pg_writer_overhead: source: %.*s\n", int(m.size()), m.data()); };
    // No slot or publication left over from an interrupted run ((b) has none by definition).
    if (admin.exec("SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + o.slot +
                   "') + (SELECT count(*) FROM pg_publication WHERE pubname = '" + o.publication + "')") != "0")
        uninstall_when_released(admin, o);
    admin.exec(table_sql);
    if (scenario == 'd') admin.exec(trigger_sql);

    std::atomic<std::uint64_t> emitted{0};
    std::unique_ptr<notifier::postgres_source> source;
    std::unique_ptr<listener> listen;
    if (scenario == 'c') {
        source = std::make_unique<notifier::postgres_source>(
            notifier::notifier([&emitted](notifier::notification&&) { emitted.fetch_add(1); }), o);
        source->start();
    }
    if (scenario == 'd') listen = std::make_unique<listener>(url, "bench_rows");
    // Every run starts right after a checkpoint: the same full-page writes for each.
    admin.exec("CHECKPOINT");

    const auto wal0 = wal_lsn(admin);
    run_result r = write_rows(url, count, clients);
    const auto wal1 = wal_lsn(admin);
    const auto done = clock_type::now();

    sample s;
    if (source) {
        if (!source->sync(std::chrono::seconds(120))) throw std::runtime_error("the source did not catch up in 120 s");
        s.d.catch_up_ms = std::chrono::duration<double, std::milli>(clock_type::now() - done).count();
        s.d.got = emitted.load();
        source->stop();
        uninstall_when_released(admin, o);
    }
    if (listen) {
        const auto deadline = done + std::chrono::seconds(120);
        while (listen->count() < count && clock_type::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        s.d.catch_up_ms = std::chrono::duration<double, std::milli>(clock_type::now() - done).count();
        s.d.got = listen->count();
    }
    s.mean = std::accumulate(r.latency_us.begin(), r.latency_us.end(), 0.0) / static_cast<double>(r.latency_us.size());
    s.p50 = percentile(r.latency_us, 0.50);
    s.p99 = percentile(r.latency_us, 0.99);
    s.rate = static_cast<double>(count) / r.seconds;
    s.wal_per_insert = static_cast<double>(wal1 - wal0) / static_cast<double>(count);
    return s;
}

std::string fmt_us(double us) {
    char b[32];
    if (us >= 1000) std::snprintf(b, sizeof b, "%.2f ms", us / 1000);
    else std::snprintf(b, sizeof b, "%.0f µs", us);
    return b;
}

std::string fmt_delta(double v, double base) {
    char b[32];
    std::snprintf(b, sizeof b, "%+.0f %%", (v / base - 1) * 100);
    return b;
}

const char* scenario_name(char s) {
    switch (s) {
        case 'a': return "(a) replica, no capture";
        case 'b': return "(b) logical, no slot";
        case 'c': return "(c) logical + slot + postgres_source";
        case 'd': return "(d) replica + trigger pg_notify";
    }
    return "?";
}

std::string load_average() {
    char b[64] = "?";
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (!std::fgets(b, sizeof b, f)) b[0] = 0;
        std::fclose(f);
    }
    std::string s(b);
    // The 1-, 5- and 15-minute averages only.
    std::size_t n = 0, i = 0;
    for (; i < s.size() && n < 3; ++i)
        if (s[i] == ' ') ++n;
    return s.substr(0, n == 3 ? i - 1 : s.size());
}

std::vector<std::size_t> parse_list(const char* s) {
    std::vector<std::size_t> out;
    for (const char* p = s; *p;) {
        char* end = nullptr;
        out.push_back(std::strtoull(p, &end, 10));
        if (end == p || out.back() == 0) throw std::invalid_argument(std::string("bad --clients list: ") + s);
        p = *end == ',' ? end + 1 : end;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string replica_url, logical_url, scenarios = "abcd";
    std::size_t count = 5000, runs = 3;
    std::vector<std::size_t> clients = {1, 8};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--replica")) replica_url = argv[i + 1];
        else if (!std::strcmp(argv[i], "--logical")) logical_url = argv[i + 1];
        else if (!std::strcmp(argv[i], "--count")) count = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--runs")) runs = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--clients")) clients = parse_list(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--scenarios")) {
            scenarios.clear();
            for (const char* p = argv[i + 1]; *p; ++p)
                if (*p != ',') scenarios += *p;
        } else {
            argc = -1;
            break;
        }
    }
    const bool bad_scenarios = scenarios.empty() || scenarios.find_first_not_of("abcd") != std::string::npos;
    const bool needs_replica = scenarios.find_first_of("ad") != std::string::npos;
    const bool needs_logical = scenarios.find_first_of("bc") != std::string::npos;
    if (argc < 0 || argc % 2 == 0 || bad_scenarios || count == 0 || runs == 0 || (needs_replica && replica_url.empty()) ||
        (needs_logical && logical_url.empty())) {
        std::fprintf(stderr,
                     "usage: %s --replica URL --logical URL [--count N] [--clients 1,8] [--runs R] [--scenarios abcd]\n"
                     "  URLs of a wal_level=replica and a wal_level=logical server (database included)\n",
                     argv[0]);
        return 2;
    }

    const std::string load_before = load_average();
    const auto t_begin = clock_type::now();
    std::map<std::pair<std::size_t, char>, std::vector<sample>> results;
    for (std::size_t run = 1; run <= runs; ++run)
        for (std::size_t c : clients)
            for (char s : scenarios) {
                const std::string& url = (s == 'a' || s == 'd') ? replica_url : logical_url;
                sample x = run_scenario(s, url, count, c);
                std::fprintf(stderr,
                             "run %zu, %zu client(s), %s: p50 %.0f µs, p99 %.0f µs, mean %.0f µs, %.0f inserts/s, "
                             "%.0f WAL B/insert%s\n",
                             run, c, scenario_name(s), x.p50, x.p99, x.mean, x.rate, x.wal_per_insert,
                             (s == 'c' || s == 'd') ? (", delivered " + std::to_string(x.d.got)).c_str() : "");
                results[{c, s}].push_back(x);
            }

    bool lost = false;
    std::printf("%zu single-row autocommit INSERTs per run (about 200-byte rows), medians of %zu runs; "
                "%.0f s in all; load average (1, 5, 15 min) %s at the start, %s at the end\n\n",
                count, runs, std::chrono::duration<double>(clock_type::now() - t_begin).count(), load_before.c_str(),
                load_average().c_str());
    std::printf("| scenario | clients | p50 | p99 | mean | mean vs (a) | inserts/s | WAL/insert | notifications received |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (std::size_t c : clients) {
        double base_mean = 0;
        if (auto it = results.find({c, 'a'}); it != results.end()) {
            std::vector<double> m;
            for (auto& x : it->second) m.push_back(x.mean);
            base_mean = median(m);
        }
        for (char s : scenarios) {
            const auto& xs = results[{c, s}];
            auto med = [&](double sample::*f) {
                std::vector<double> v;
                for (auto& x : xs) v.push_back(x.*f);
                return median(v);
            };
            std::string delivered = "—";
            if (s == 'c' || s == 'd') {
                std::uint64_t lo = count, hi = 0;
                std::vector<double> catch_up;
                for (auto& x : xs) {
                    lo = std::min(lo, x.d.got);
                    hi = std::max(hi, x.d.got);
                    catch_up.push_back(x.d.catch_up_ms);
                }
                if (lo != count || hi != count) lost = true;
                char b[128];
                std::snprintf(b, sizeof b, "%s of %zu, the last %.0f ms after the last insert",
                              lo == hi ? std::to_string(lo).c_str() : (std::to_string(lo) + "–" + std::to_string(hi)).c_str(),
                              count, median(catch_up));
                delivered = b;
            }
            const double mean = med(&sample::mean);
            std::printf("| %s | %zu | %s | %s | %s | %s | %.0f | %.0f B | %s |\n", scenario_name(s), c,
                        fmt_us(med(&sample::p50)).c_str(), fmt_us(med(&sample::p99)).c_str(), fmt_us(mean).c_str(),
                        base_mean > 0 ? fmt_delta(mean, base_mean).c_str() : "—", med(&sample::rate),
                        med(&sample::wal_per_insert), delivered.c_str());
        }
    }
    if (lost) std::fprintf(stderr, "pg_writer_overhead: a consumer did not get exactly %zu notifications\n", count);
    return lost ? 1 : 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pg_writer_overhead: %s\n", e.what());
    return 2;
}
