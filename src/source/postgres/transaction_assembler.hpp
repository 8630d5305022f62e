// SPDX-License-Identifier: MIT
#pragma once
// Turns the decoded pgoutput messages of one replication stream into
// committed transactions: the notifications of each change between Begin and
// Commit, for the watched tables only, handed out whole at Commit. Pure: no
// connection, so unit tests and a fuzzer feed it messages.

#include "source/postgres/pgoutput_decoder.hpp"
#include "source/postgres/row_encoder.hpp"

#include <notifier/notification.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace notifier::pg {

/// One committed transaction, as the hub gets it.
struct committed_transaction {
    lsn end_lsn = 0;               ///< what to confirm once it is published
    std::int64_t commit_time = 0;  ///< µs since 2000-01-01
    /// The changes in statement order, or one `reset` per collection touched
    /// when the transaction changed more rows than the assembler's limit.
    std::vector<notification> changes;
};

class transaction_assembler {
public:
    /// A transaction changing more than `max_changes` rows (a bulk load, a
    /// mass update) becomes one `reset` per collection it touched: clients
    /// reload once instead of receiving a flood.
    explicit transaction_assembler(std::size_t max_data_bytes, std::size_t max_changes = 10'000)
        : encoder_(max_data_bytes), max_changes_(max_changes) {}

    /// The tables whose changes become notifications; others are skipped.
    void watch(std::vector<watched_table> tables) { tables_ = std::move(tables); }
    const std::vector<watched_table>& tables() const noexcept { return tables_; }

    /// A new stream starts: the server announces relations again and a
    /// transaction cut off by the old stream's end is dropped (the server
    /// sends it again, whole).
    void restart();

    /// Takes the next message of the stream; the transaction at its Commit.
    /// Throws std::runtime_error on a stream the server never sends (a change
    /// outside a transaction or of an unannounced relation, a Commit without
    /// Begin): the caller drops the stream and starts again.
    std::optional<committed_transaction> add(const message& m);

    /// Between a Begin and its Commit.
    bool in_transaction() const noexcept { return in_txn_; }

private:
    const watched_table* table_of(const relation& r) const;
    void collapse();

    row_encoder encoder_;
    std::size_t max_changes_;
    std::vector<watched_table> tables_;
    std::unordered_map<std::uint32_t, relation> relations_;
    bool in_txn_ = false;
    std::vector<notification> txn_;
    bool collapsed_ = false;
    std::set<std::string> collapsed_collections_;
};

}  // namespace notifier::pg
