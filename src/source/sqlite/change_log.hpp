// SPDX-License-Identifier: MIT
#pragma once
// The reader's side of the change log, on the source's own connection.
// Private to notifier::sqlite.

#include "source/sqlite/sqlite_connection.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace notifier::source {

/// One log row: a committed change of a watched table.
struct log_row {
    std::int64_t id = 0;
    std::string table;
    std::string op;                   ///< create, update or delete
    std::optional<std::string> key;   ///< the key rendered as text
    std::optional<std::string> data;  ///< JSON object text: the row after the change
    /// JSON object text: the row before an update or a delete, in the form
    /// of `data`; NULL for creates and for rows logged before the column
    /// existed.
    std::optional<std::string> old;
};

/// Where reading starts after (re)start, and whether changes were lost.
struct log_position {
    std::int64_t last_id = 0;
    /// Rows after the saved position are gone (pruned by the writers' bound,
    /// or the database was restored from an older copy).
    bool lost = false;
};

class change_log {
public:
    /// Opens the connection and prepares the statements; the log tables must
    /// exist (see install()).
    change_log(const std::string& path, std::chrono::milliseconds busy_timeout);

    /// Changes when another connection commits (PRAGMA data_version).
    std::int64_t data_version();
    /// The saved position, checked against the log.
    log_position load_position();
    /// Up to `limit` rows with id > `after`, oldest first.
    std::vector<log_row> read(std::int64_t after, std::size_t limit);
    /// Saves the position and deletes the rows up to it, in one transaction.
    void save(std::int64_t last_id);

    sqlite_connection& connection() noexcept { return db_; }

private:
    sqlite_connection db_;
    sqlite_statement version_;
    sqlite_statement read_;
    sqlite_statement save_position_;
    sqlite_statement prune_;
};

}  // namespace notifier::source
