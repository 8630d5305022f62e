// SPDX-License-Identifier: MIT
#include "source/postgres/row_encoder.hpp"

#include "core/json_escape.hpp"
#include "core/utf8.hpp"

#include <algorithm>
#include <optional>

namespace notifier::pg {

namespace {

// Type oids from pg_type.dat: stable across PostgreSQL versions.
constexpr std::uint32_t bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, oid_oid = 26,
                        json_oid = 114, float4_oid = 700, float8_oid = 701, numeric_oid = 1700, jsonb_oid = 3802;

bool finite_number(std::string_view t) {
    // NaN, Infinity and -Infinity are the only non-numeric text forms.
    return !t.empty() && (t.front() == '-' ? t.size() > 1 && t[1] >= '0' && t[1] <= '9' : t.front() >= '0' && t.front() <= '9');
}

/// The value of column `name` in `t`, if present and not unchanged-TOAST.
const value* find(const relation& rel, const tuple& t, std::string_view name) {
    for (std::size_t i = 0; i < rel.columns.size() && i < t.size(); ++i)
        if (rel.columns[i].name == name) return t[i].k == value::kind::unchanged_toast ? nullptr : &t[i];
    return nullptr;
}

bool has_column(const relation& rel, std::string_view name) {
    return std::any_of(rel.columns.begin(), rel.columns.end(), [&](const column& c) { return c.name == name; });
}

/// The key as the notification's id; nullopt when a key column is missing or
/// NULL, or the result is not a valid id. The key columns are the primary
/// key's, in key order, as read from the catalog at connect; once a key
/// column was renamed (the relation message has the new names) they are the
/// replica identity columns the relation message flags, in column order.
std::optional<std::string> key_of(const watched_table& table, const relation& rel, const tuple& t) {
    std::string id;
    std::size_t parts = 0;
    auto add = [&](const value* v) {
        if (!v || v->k == value::kind::null) return false;
        if (parts++) id.push_back(',');
        id.append(v->bytes);
        return true;
    };
    const bool by_name = std::all_of(table.key.begin(), table.key.end(), [&](const std::string& k) { return has_column(rel, k); });
    if (by_name) {
        for (const auto& k : table.key)
            if (!add(find(rel, t, k))) return std::nullopt;
    } else {
        // REPLICA IDENTITY FULL flags every column as part of the identity:
        // the flags no longer name the key, and joining every column would
        // be a wrong id rather than a missing one.
        if (rel.replica_identity == 'f') return std::nullopt;
        for (std::size_t i = 0; i < rel.columns.size(); ++i) {
            if (!rel.columns[i].key) continue;
            if (i >= t.size() || t[i].k == value::kind::unchanged_toast || !add(&t[i])) return std::nullopt;
        }
    }
    if (parts == 0 || !is_valid_id(id)) return std::nullopt;
    return id;
}

}  // namespace

void row_encoder::append_value(std::string& out, std::uint32_t type_oid, std::string_view text) {
    switch (type_oid) {
        case bool_oid:
            out += text == "t" ? "true" : "false";
            return;
        case int2_oid:
        case int4_oid:
        case int8_oid:
        case oid_oid:
            out += text;
            return;
        case float4_oid:
        case float8_oid:
        case numeric_oid:
            if (finite_number(text)) {
                out += text;
                return;
            }
            break;  // NaN, Infinity: a string
        case json_oid:
        case jsonb_oid:
            out += text;  // the server checked it
            return;
        default:
            break;
    }
    if (core::is_valid_utf8(text)) {
        core::append_json_string(out, text);
    } else {
        // A database not in UTF-8: keep the bytes visible rather than send invalid JSON.
        std::string fixed;
        for (unsigned char ch : text) fixed.push_back(ch < 0x80 ? static_cast<char>(ch) : '?');
        core::append_json_string(out, fixed);
    }
}

namespace {

/// Appends `"name":value` (with a leading ',' unless first in the object).
void append_member(std::string& out, const column& col, const value& v) {
    if (out.size() > 1) out.push_back(',');
    core::append_json_string(out, col.name);
    out.push_back(':');
    if (v.k == value::kind::null)
        out += "null";
    else if (v.k == value::kind::binary)
        core::append_json_string(out, "");  // not requested: binary mode is off
    else
        row_encoder::append_value(out, col.type_oid, v.bytes);
}

}  // namespace

std::optional<std::string> row_encoder::encode_old(const relation& rel, const change& c) const {
    if (c.old_kind != 'K' && c.old_kind != 'O') return std::nullopt;
    std::string old = "{";
    for (std::size_t i = 0; i < rel.columns.size() && i < c.old_values.size(); ++i) {
        const value& v = c.old_values[i];
        // Stored out of line and not sent: unknown, so absent (a filter then
        // counts the condition as holding), never a guess.
        if (v.k == value::kind::unchanged_toast) continue;
        // By key, the other columns are NULL placeholders, not values.
        if (c.old_kind == 'K' && !rel.columns[i].key) continue;
        append_member(old, rel.columns[i], v);
    }
    old.push_back('}');
    // Nothing known, or too large to send: no `old`, as for `data` the
    // writer never fails and nothing is cut.
    if (old.size() == 2 || old.size() > max_data_bytes_) return std::nullopt;
    return old;
}

void row_encoder::encode(const watched_table& table, const relation& rel, const change& c,
                         std::vector<notification>& out) const {
    const tuple& row = c.op == 'D' ? c.old_values : c.new_values;
    // Update: columns stored out of line and left unchanged are not sent;
    // a REPLICA IDENTITY FULL table sends its whole old row, which has them.
    const tuple* old_full = c.old_kind == 'O' ? &c.old_values : nullptr;

    std::string data = "{";
    for (std::size_t i = 0; i < rel.columns.size() && i < row.size(); ++i) {
        const value* v = &row[i];
        if (v->k == value::kind::unchanged_toast) {
            if (!old_full || i >= old_full->size() || (*old_full)[i].k == value::kind::unchanged_toast) continue;
            v = &(*old_full)[i];
        }
        // A delete by key carries only the key columns; the rest are NULL placeholders.
        if (c.op == 'D' && c.old_kind == 'K' && v->k == value::kind::null) continue;
        append_member(data, rel.columns[i], *v);
    }
    data.push_back('}');

    auto make = [&](std::string_view action, std::optional<std::string> id, bool with_data,
                    std::optional<std::string> old) {
        notification n;
        n.collection = table.collection;
        n.action = action;
        n.id = std::move(id);
        if (with_data) {
            if (data.size() <= max_data_bytes_)
                n.data = data;
            else
                n.data_omitted = true;
        }
        // With its data omitted, a row's old values alone would reach the
        // readers of every filter (an omitted data holds them all): none of
        // the row is sent.
        if (!n.data_omitted) n.old = std::move(old);
        out.push_back(std::move(n));
    };

    switch (c.op) {
        case 'I':
            make("create", key_of(table, rel, row), true, std::nullopt);
            return;
        case 'D':
            make("delete", key_of(table, rel, row), true, encode_old(rel, c));
            return;
        default: {
            auto id = key_of(table, rel, row);
            if (c.old_kind) {
                auto old_id = key_of(table, rel, c.old_values);
                if (old_id && old_id != id) {
                    // The old row leaves with the delete; the create is new.
                    make("delete", std::move(old_id), false, encode_old(rel, c));
                    make("create", std::move(id), true, std::nullopt);
                    return;
                }
            }
            auto old = encode_old(rel, c);
            const bool old_lost = !old && (c.old_kind == 'K' || c.old_kind == 'O');
            make("update", std::move(id), true, std::move(old));
            if (old_lost && out.back().data) {
                // The old row came but could not be carried (too large, or
                // nothing of it known): with data alone a filter the row left
                // could not see it leave. With neither, the update reaches
                // every filter of the table.
                out.back().data.reset();
                out.back().data_omitted = true;
            }
        }
    }
}

}  // namespace notifier::pg
