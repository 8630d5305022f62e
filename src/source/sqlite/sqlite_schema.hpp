// SPDX-License-Identifier: MIT
#pragma once
// The change log's tables and the capture triggers: what they look like and
// how they are installed. Private to notifier::sqlite.

#include <notifier/source/sqlite_source.hpp>

#include "source/sqlite/sqlite_connection.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace notifier::source {

/// What the triggers need to know about a watched table.
struct table_shape {
    std::string name;
    bool rowid = true;  ///< false for WITHOUT ROWID tables
    std::vector<std::string> columns;
    std::vector<std::string> primary_key;  ///< declared primary key columns, in order
    bool integer_primary_key = false;      ///< the single primary key column aliases the rowid
    /// Every UNIQUE constraint and unique index made of plain columns
    /// (the primary key's included when it has an index).
    std::vector<std::vector<std::string>> unique_keys;
    /// A unique index on an expression exists: a REPLACE it causes is not
    /// seen (documented limitation).
    bool expression_unique = false;
};

/// A watched table resolved against its shape.
struct capture_table {
    table_shape shape;
    std::string collection;
    /// The SQL expression naming the key in the table: a quoted column or a
    /// rowid alias.
    std::string key_sql;
    std::vector<std::string> columns;  ///< sent as data
};

/// Reads the table's columns, keys and unique indexes; throws
/// std::runtime_error for a missing table.
table_shape describe_table(sqlite_connection& db, const std::string& name);

/// Checks `cfg` against the table (columns and key exist, the key is
/// determined); throws std::runtime_error with a message naming the problem.
capture_table resolve(sqlite_connection& db, const sqlite_table& cfg);

/// The CREATE TRIGGER statements for one table.
std::vector<std::string> trigger_sql(const capture_table& t, std::size_t max_log_rows);

/// In one transaction: creates the log tables when missing, drops every
/// capture trigger and creates those of `tables`.
void install(sqlite_connection& db, const std::vector<capture_table>& tables, std::size_t max_log_rows);

/// Drops the capture triggers and the log tables.
void uninstall(sqlite_connection& db);

inline constexpr const char* log_table = "_notifier_log";
inline constexpr const char* state_table = "_notifier_state";
inline constexpr const char* scratch_table = "_notifier_scratch";
/// Every object the capture creates starts with this.
inline constexpr std::string_view object_prefix = "_notifier_";

}  // namespace notifier::source
