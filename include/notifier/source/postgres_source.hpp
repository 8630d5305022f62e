// SPDX-License-Identifier: MIT
#pragma once
// PostgreSQL change capture: every committed insert, update and delete of the
// chosen tables becomes a notification. Link with notifier::postgres.
//
// How: logical decoding. The server decodes its write-ahead log through the
// built-in `pgoutput` plugin into a replication slot and streams committed
// transactions, whole and in commit order, whoever wrote them. The source
// confirms a transaction to the server only once the hub has published it,
// so the slot keeps what was not yet published across restarts and dropped
// connections. docs/architecture.md, "PostgreSQL change capture", has the
// reasons and the trade-offs (wal_level=logical, watching the slot).

#include <notifier/notifier.hpp>
#include <notifier/source/change_source.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace notifier {

struct postgres_source_options {
    /// libpq connection string or URL, e.g. postgresql://user@host:5432/db.
    /// The role needs the REPLICATION attribute (or to be a superuser) to
    /// stream from the slot; install() also needs to own the tables.
    std::string conninfo;
    /// Tables to watch, `name` or `schema.name`; the collection is the table's
    /// name without the schema, `id` its primary key (composite keys joined
    /// with ','), `data` the row as a JSON object.
    std::vector<std::string> tables;
    /// The replication slot and the publication this source owns.
    std::string slot = "notifier";
    std::string publication = "notifier";
    /// Create the slot and publication at start() when missing, and set the
    /// tables' replica identity as install() does (needs the rights
    /// install() needs). Off: start() fails with a message naming the
    /// install command.
    bool install = false;
    /// install() (and `install` at start()) sets REPLICA IDENTITY FULL on
    /// every table, so that PostgreSQL sends the whole old row of an update
    /// or a delete and notifications carry it as `old`: a filtered
    /// subscription then learns of a row that left its filter. true: the
    /// tables keep their replica identity; with the default (the primary
    /// key) the server sends only the key columns of a deleted row and no
    /// old row for an update that keeps its key, so deletes reach every
    /// filtered subscription of the collection and an update moving a row
    /// out of a filter is missed by that filter's subscribers. FULL costs
    /// WAL: every update and delete logs the old row.
    bool keep_replica_identity = false;
    /// A row whose JSON is larger is sent without `data` and with
    /// `"data_omitted":true` (the writer never fails; clients re-fetch).
    std::size_t max_data_bytes = 64 << 10;
    /// Status updates to the server (also how the slot learns what may be
    /// discarded) at least this often.
    std::chrono::milliseconds status_interval{1000};
    /// First and longest wait before reconnecting after a lost connection.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    /// Runtime errors (the source reconnects after each); default: a warning
    /// `event=source_error` in the log of the notifier's hub (none with a
    /// sink alone; stats() count them either way).
    std::function<void(std::string_view)> on_error;
};

/// Counters for metrics; read from any thread.
struct postgres_source_stats {
    bool connected = false;
    std::uint64_t transactions = 0;   ///< committed transactions handed to the hub
    std::uint64_t changes = 0;        ///< row changes handed to the hub
    std::uint64_t errors = 0;         ///< connection or protocol errors (each followed by a reconnect)
    std::uint64_t resyncs = 0;        ///< times the slot was lost and clients told to resync
    std::uint64_t received_lsn = 0;   ///< end of the newest WAL record received
    std::uint64_t confirmed_lsn = 0;  ///< newest commit the hub published and the server was told of
    /// Age of the oldest committed transaction handed to the hub and not yet
    /// published; 0 when none waits (server clock against ours: meaningful
    /// on one host or with synchronized clocks).
    double lag_ms = 0;
    /// Commit to published, for the newest published transaction.
    double last_delay_ms = 0;
};

/// Change capture for one PostgreSQL database through one replication slot.
class postgres_source final : public change_source {
public:
    /// Validates the options (throws std::invalid_argument); connects to nothing.
    postgres_source(notifier n, postgres_source_options opts);
    ~postgres_source() override;  ///< stop()s
    postgres_source(const postgres_source&) = delete;
    postgres_source& operator=(const postgres_source&) = delete;

    /// Connects, checks (or with `install`, creates) the slot and publication,
    /// and starts streaming on a thread of its own. Throws std::runtime_error
    /// with the reason when the database is unreachable or not set up.
    void start() override;
    void stop() override;
    /// Streaming needs no wake-up: a no-op.
    void wake() noexcept override;
    bool sync(std::chrono::milliseconds timeout) override;

    postgres_source_stats stats() const;

    /// The SQL install() runs, for a DBA to review or run by hand.
    static std::string install_sql(const postgres_source_options& opts);
    /// The SQL uninstall() runs.
    static std::string uninstall_sql(const postgres_source_options& opts);
    /// Sets REPLICA IDENTITY FULL on the tables not yet so (unless
    /// keep_replica_identity), creates the publication (or sets its tables)
    /// and the slot; idempotent. Throws std::runtime_error with the
    /// server's message.
    static void install(const postgres_source_options& opts);
    /// Drops the slot and the publication if present; idempotent. Needs only
    /// conninfo, slot and publication (tables may be empty). The tables'
    /// replica identity stays as install() left it: what it was before is
    /// not recorded, and other publications or subscribers may rely on it.
    static void uninstall(const postgres_source_options& opts);

private:
    struct impl;
    std::shared_ptr<impl> impl_;  // shared with the coroutines on its loop
};

}  // namespace notifier
