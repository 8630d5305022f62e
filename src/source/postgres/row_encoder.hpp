// SPDX-License-Identifier: MIT
#pragma once
// Turns one decoded row change into notifications: the collection is the
// table's, `id` its primary key (composite keys joined with ','), `data` the
// row as a JSON object with numbers, booleans and json/jsonb as JSON and
// everything else as strings (PostgreSQL's text form), `old` (update,
// delete) the old row the server sent, encoded the same way. Pure.

#include "source/postgres/pgoutput_decoder.hpp"

#include <notifier/notification.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace notifier::pg {

/// What the source knows of a watched table from the catalog.
struct watched_table {
    std::string schema;
    std::string name;
    std::string collection;
    std::vector<std::string> key;  ///< primary key column names, in key order
};

class row_encoder {
public:
    explicit row_encoder(std::size_t max_data_bytes) : max_data_bytes_(max_data_bytes) {}

    /// Appends the notifications of `c`: one, or two for an update that
    /// changed the key (a delete of the old id, then a create of the new one,
    /// as the SQLite source does). `rel` describes the columns of `c`.
    /// An update or a delete carries `old` (the delete of a changed key
    /// too) when the server sent an old row: see encode_old().
    void encode(const watched_table& table, const relation& rel, const change& c,
                std::vector<notification>& out) const;

    /// The old row of an update or a delete as a JSON object, the columns
    /// named and typed as in `data`: with 'O' (REPLICA IDENTITY FULL) every
    /// column, with 'K' the replica identity's (key) columns only. A NULL
    /// column is null; an unchanged TOAST column was not sent and is left
    /// out. nullopt when the server sent no old row, none of its columns is
    /// known, or the object is larger than max_data_bytes (never cut).
    std::optional<std::string> encode_old(const relation& rel, const change& c) const;

    /// One column value as JSON, by the column's type.
    static void append_value(std::string& out, std::uint32_t type_oid, std::string_view text);

private:
    std::size_t max_data_bytes_;
};

}  // namespace notifier::pg
