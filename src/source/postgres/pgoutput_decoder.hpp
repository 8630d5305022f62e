// SPDX-License-Identifier: MIT
#pragma once
// Decodes what a PostgreSQL walsender streams during logical replication:
// the CopyData envelopes (XLogData, keepalive) and the messages of the
// built-in `pgoutput` plugin, protocol version 1. Pure: no connection, so
// unit tests and a fuzzer feed it bytes. Decoded views point into the input,
// which must outlive them.
//
// Reference: PostgreSQL 15 documentation, "Streaming Replication Protocol"
// and "Logical Replication Message Formats".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::pg {

using lsn = std::uint64_t;

/// "16/B374D848" ↔ 0x16B374D848.
std::string format_lsn(lsn v);
std::optional<lsn> parse_lsn(std::string_view s);

// --- envelopes (server → client CopyData) ---------------------------------

struct xlog_data {
    lsn start = 0;       ///< WAL position of the payload
    lsn wal_end = 0;     ///< current end of WAL on the server
    std::int64_t send_time = 0;  ///< µs since 2000-01-01 UTC
    std::string_view payload;    ///< one pgoutput message
};
struct keepalive {
    lsn wal_end = 0;
    std::int64_t send_time = 0;
    bool reply_requested = false;
};
using envelope = std::variant<xlog_data, keepalive>;

/// nullopt (with `error` set) on a malformed or unknown envelope.
std::optional<envelope> decode_envelope(std::string_view bytes, std::string& error);

/// The standby status update ('r') a client sends: everything up to
/// `flushed` is processed and the slot may forget it.
std::string encode_status_update(lsn written, lsn flushed, std::int64_t now_us, bool reply_requested);

/// Microseconds since 2000-01-01 UTC (PostgreSQL's epoch) of the system clock.
std::int64_t pg_now_us();

// --- pgoutput messages ------------------------------------------------------

struct column {
    std::string name;
    std::uint32_t type_oid = 0;
    bool key = false;  ///< part of the replica identity (the primary key by default)
};

/// 'R': sent before the first change of a table in a session and after its
/// definition changes.
struct relation {
    std::uint32_t oid = 0;
    std::string schema;
    std::string name;
    char replica_identity = 'd';  ///< d default, n nothing, f full, i index
    std::vector<column> columns;
};

struct value {
    enum class kind : char { null = 'n', unchanged_toast = 'u', text = 't', binary = 'b' };
    kind k = kind::null;
    std::string_view bytes;  ///< text or binary form; empty otherwise
};
using tuple = std::vector<value>;

struct begin {
    lsn final_lsn = 0;
    std::int64_t commit_time = 0;
    std::uint32_t xid = 0;
};
struct commit {
    lsn commit_lsn = 0;
    lsn end_lsn = 0;  ///< what to confirm once the transaction is handled
    std::int64_t commit_time = 0;
};
/// 'I', 'U' or 'D'.
struct change {
    char op = 'I';
    std::uint32_t relation = 0;
    /// Update/delete: 'K' (key columns only; on update only when the key
    /// changed), 'O' (whole old row, REPLICA IDENTITY FULL) or 0 (none).
    char old_kind = 0;
    tuple old_values;
    tuple new_values;  ///< insert/update
};
struct truncate {
    std::vector<std::uint32_t> relations;
};
/// Type ('Y'), origin ('O') and logical messages ('M'): nothing to emit.
struct other {
    char tag = 0;
};

using message = std::variant<begin, commit, relation, change, truncate, other>;

/// nullopt (with `error` set) on a malformed or unknown message.
std::optional<message> decode_message(std::string_view bytes, std::string& error);

}  // namespace notifier::pg
