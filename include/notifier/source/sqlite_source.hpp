// SPDX-License-Identifier: MIT
#pragma once
// SQLite change capture: every committed insert, update and delete of the
// chosen tables becomes a notification. Link with notifier::sqlite.
//
// How: triggers append each row change to a log table (_notifier_log)
// inside the writer's own transaction, so a rollback takes the log rows
// with it and any writer is captured — another connection, another process,
// the sqlite3 shell. The source reads the log by increasing id (commit
// order) on its own connection, emits, then deletes what it emitted and
// saves its position (_notifier_state) so a restart neither repeats nor
// misses. docs/architecture.md, "SQLite change capture", has the reasons.

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

/// One watched table.
struct sqlite_table {
    /// The table's name in the main schema (rowid or WITHOUT ROWID).
    std::string name;
    /// The notifications' collection; empty: the table's name.
    std::string collection;
    /// The column sent as the notification's `id`. Empty: the table's
    /// primary key when it is a single column, else the rowid. A composite
    /// primary key needs an explicit (unique) column here.
    std::string key;
    /// Columns sent as `data`, a JSON object {"column": value}: the row
    /// after a create or an update. An update and a delete also carry `old`,
    /// the same columns as they were before. Empty (the default): no data and
    /// no old at all, so a column such as a password hash never leaks unless
    /// someone lists it. BLOBs are sent as hex strings.
    std::vector<std::string> columns;
};

struct sqlite_source_options {
    /// The database file. It must exist: the application owns its schema.
    std::string path;
    /// The tables to watch; at least one.
    std::vector<sqlite_table> tables;
    /// How often `PRAGMA data_version` is checked for commits of other
    /// connections and processes. It reads no table, so 50 ms costs little
    /// and keeps changes from the sqlite3 shell well under a second.
    std::chrono::milliseconds poll_interval{50};
    /// Log rows read, emitted and pruned per step: bounds memory and the size
    /// of one batch handed to the hub.
    std::size_t batch_size = 512;
    /// The most rows the log keeps. Writers delete older rows beyond it, so
    /// the log stays bounded even when no source runs for a long time; a
    /// source that finds rows it has not read gone emits `reset` for every
    /// collection. 100,000 rows is ten times the hub's default history: a
    /// client away for that long resyncs anyway.
    std::size_t max_log_rows = 100'000;
    /// The largest `data`, and the largest `old`, in bytes of JSON. A larger
    /// `data` is sent as `"data_omitted":true` and a larger `old` is left out
    /// (each on its own, never truncated; the writer never fails): the client
    /// re-fetches the record. 64 KiB as for PostgreSQL: one notification
    /// stays well below a client's 1 MiB queue even with both.
    std::size_t max_data_bytes = 64 << 10;
    /// How long a statement waits for another connection's lock.
    std::chrono::milliseconds busy_timeout{5000};
    /// Runtime errors (the source retries after each); default: a warning
    /// `event=source_error` in the log of the notifier's hub (none with a
    /// sink alone; stats() count them either way).
    std::function<void(std::string_view)> on_error;
};

/// What a running sqlite_source has done (for metrics; see hub::add_source_metrics).
struct sqlite_source_stats {
    bool connected = false;     ///< the reader has a working connection to the database
    std::uint64_t changes = 0;  ///< notifications handed to the hub (resets included)
    std::uint64_t errors = 0;   ///< failed steps, each retried with backoff (on_error tells which)
    /// How long committed rows have been waiting since the reader first
    /// found them and could not hand them over (hub overloaded, errors);
    /// 0 when caught up.
    double lag_ms = 0;
};

/// Change capture for one SQLite database file. Run one source per database
/// file: the log has a single reader position.
class sqlite_source final : public change_source {
public:
    /// Validates the options (throws std::invalid_argument); opens nothing yet.
    sqlite_source(notifier n, sqlite_source_options opts);
    ~sqlite_source() override;  ///< stop()s
    sqlite_source(const sqlite_source&) = delete;
    sqlite_source& operator=(const sqlite_source&) = delete;

    /// Creates the log tables if needed and (re)installs the triggers of the
    /// configured tables in one transaction — triggers of tables no longer
    /// configured are dropped — then starts the reader thread.
    void start() override;
    void stop() override;
    void wake() noexcept override;
    bool sync(std::chrono::milliseconds timeout) override;

    /// The id of the last log row handed to the notifier (diagnostics, tests).
    std::int64_t position() const noexcept;

    /// Counters for metrics; thread-safe and cheap (atomics).
    sqlite_source_stats stats() const noexcept;

    /// Drops the triggers and log tables from a database, e.g. when an
    /// application stops using capture. Must not run while a source runs.
    static void uninstall(const std::string& path);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace notifier
