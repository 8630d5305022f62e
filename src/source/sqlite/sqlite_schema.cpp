// SPDX-License-Identifier: MIT
#include "source/sqlite/sqlite_schema.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace notifier::source {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool has_column(const table_shape& s, std::string_view c) {
    return std::any_of(s.columns.begin(), s.columns.end(), [&](const std::string& x) { return iequals(x, c); });
}

bool is_rowid_name(std::string_view n) { return iequals(n, "rowid") || iequals(n, "_rowid_") || iequals(n, "oid"); }

// A name for the rowid that no column shadows.
std::string rowid_sql(const table_shape& s) {
    for (const char* n : {"_rowid_", "rowid", "oid"})
        if (!has_column(s, n)) return n;
    throw std::runtime_error("table " + s.name + " has columns named rowid, _rowid_ and oid: set an explicit key");
}

// Writers must never fail because of capture: json_object() refuses BLOBs
// and renders infinities as `Inf`, which is not JSON.
std::string json_value(const std::string& ref) {
    return "CASE typeof(" + ref + ") WHEN 'blob' THEN hex(" + ref + ") WHEN 'real' THEN CASE WHEN abs(" + ref +
           ") <= 1.7976931348623157e308 THEN " + ref + " END ELSE " + ref + " END";
}

std::string data_sql(const capture_table& t, const char* row) {
    if (t.columns.empty()) return "NULL";
    std::string s = "json_object(";
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
        if (i) s += ", ";
        s += quote_literal(t.columns[i]) + ", " + json_value(std::string(row) + "." + quote_identifier(t.columns[i]));
    }
    return s + ")";
}

// Rows of the table that the values of `row` (NEW) would conflict with
// under any unique constraint: those a REPLACE would delete. Over-selecting
// is harmless (the AFTER trigger keeps only rows that are really gone).
std::string conflict_sql(const capture_table& t, const char* row) {
    std::vector<std::string> terms;
    const auto& s = t.shape;
    if (s.rowid) {
        const std::string r = s.integer_primary_key ? quote_identifier(s.primary_key[0]) : rowid_sql(s);
        terms.push_back(r + " = " + row + "." + r);
    }
    for (const auto& key : s.unique_keys) {
        std::string term = "(";
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (i) term += " AND ";
            term += quote_identifier(key[i]) + " = " + row + "." + quote_identifier(key[i]);
        }
        terms.push_back(term + ")");
    }
    std::string out;
    for (std::size_t i = 0; i < terms.size(); ++i) out += (i ? " OR " : "") + terms[i];
    return out;
}

bool has_table_column(sqlite_connection& db, const char* table, const char* column) {
    auto q = db.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    q.bind(1, std::string_view(table)).bind(2, std::string_view(column));
    return q.step();
}

std::string trigger_name(const capture_table& t, const char* suffix) {
    return quote_identifier(std::string(object_prefix) + t.shape.name + "_" + suffix);
}

}  // namespace

table_shape describe_table(sqlite_connection& db, const std::string& name) {
    table_shape s;
    s.name = name;
    {
        auto q = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1");
        q.bind(1, name);
        if (!q.step()) throw std::runtime_error("no table named \"" + name + "\" in the database");
    }
    {
        auto q = db.prepare("SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid");
        q.bind(1, name);
        std::vector<std::pair<std::int64_t, std::string>> pk;
        std::string first_pk_type;
        while (q.step()) {
            s.columns.push_back(q.column_text(0));
            if (q.column_int(2) > 0) {
                pk.emplace_back(q.column_int(2), q.column_text(0));
                if (q.column_int(2) == 1) first_pk_type = q.column_text(1);
            }
        }
        std::sort(pk.begin(), pk.end());
        for (auto& [_, c] : pk) s.primary_key.push_back(c);
        // From the catalog, not by selecting _rowid_: a column may be named so.
        auto wr = db.prepare("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1");
        wr.bind(1, name);
        if (wr.step() && wr.column_int(0) != 0) s.rowid = false;
        bool pk_index = false;
        auto idx = db.prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)");
        idx.bind(1, name);
        while (idx.step()) {
            const std::string origin = idx.column_text(2);
            if (origin == "pk") pk_index = true;
            if (idx.column_int(1) == 0) continue;
            auto cols = db.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
            cols.bind(1, idx.column_text(0));
            std::vector<std::string> key;
            bool plain = true;
            while (cols.step()) {
                if (cols.column_type(0) == SQLITE_NULL) plain = false;
                else key.push_back(cols.column_text(0));
            }
            if (!plain) s.expression_unique = true;
            else if (!key.empty()) s.unique_keys.push_back(std::move(key));
        }
        // INTEGER PRIMARY KEY (exactly that type) aliases the rowid and has
        // no index of its own.
        s.integer_primary_key = s.rowid && s.primary_key.size() == 1 && !pk_index && iequals(first_pk_type, "INTEGER");
    }
    return s;
}

capture_table resolve(sqlite_connection& db, const sqlite_table& cfg) {
    if (cfg.name.empty()) throw std::runtime_error("a watched table needs a name");
    if (cfg.name.compare(0, object_prefix.size(), object_prefix) == 0)
        throw std::runtime_error("table \"" + cfg.name + "\" belongs to the capture itself");
    capture_table t;
    t.shape = describe_table(db, cfg.name);
    t.collection = cfg.collection.empty() ? cfg.name : cfg.collection;
    for (const auto& c : cfg.columns) {
        if (!has_column(t.shape, c))
            throw std::runtime_error("table \"" + cfg.name + "\" has no column \"" + c + "\" (listed in columns)");
        t.columns.push_back(c);
    }
    if (!cfg.key.empty()) {
        if (has_column(t.shape, cfg.key)) t.key_sql = quote_identifier(cfg.key);
        else if (is_rowid_name(cfg.key) && t.shape.rowid) t.key_sql = rowid_sql(t.shape);
        else throw std::runtime_error("table \"" + cfg.name + "\" has no column \"" + cfg.key + "\" (the key)");
    } else if (t.shape.primary_key.size() == 1) {
        t.key_sql = quote_identifier(t.shape.primary_key[0]);
    } else if (t.shape.primary_key.empty() && t.shape.rowid) {
        t.key_sql = rowid_sql(t.shape);
    } else {
        throw std::runtime_error("table \"" + cfg.name +
                                 "\" has a composite primary key: name a unique column as its key");
    }
    return t;
}

std::vector<std::string> trigger_sql(const capture_table& t, std::size_t max_log_rows) {
    const std::string tbl = quote_identifier(t.shape.name);
    const std::string lit = quote_literal(t.shape.name);
    const std::string& k = t.key_sql;
    const std::string log = log_table, scratch = scratch_table;
    const std::string insert_log = "INSERT INTO " + log + " (tbl, op, pk, data, old) ";
    // Keeps the log bounded even when no source runs; only ever deletes rows
    // when the log is full, otherwise one index probe.
    const std::string cap = "DELETE FROM " + log + " WHERE id <= last_insert_rowid() - " +
                            std::to_string(max_log_rows) + ";\n";
    const std::string clear = "DELETE FROM " + scratch + " WHERE tbl = " + lit + ";\n";
    // The rows an insert or update may replace, each with its values as the
    // client knows them: a REPLACE deletes them before any AFTER trigger can
    // read them. GROUP BY the key, as DISTINCT did: one scratch row per key.
    const std::string remember = "INSERT INTO " + scratch + " (tbl, pk, old) SELECT " + lit + ", " + k + ", " +
                                 data_sql(t, tbl.c_str()) + " FROM " + tbl + " WHERE " + k + " IS NOT NULL";
    // Keys are compared byte for byte (COLLATE BINARY): under a NOCASE key
    // 'abc' and 'ABC' are one row to SQLite but two ids to a client.
    // Rows a REPLACE deleted without firing the DELETE trigger (it fires only
    // with recursive_triggers on, and then removes its row from the scratch).
    const std::string replaced = insert_log + "SELECT " + lit + ", 'delete', s.pk, NULL, s.old FROM " + scratch +
                                 " AS s WHERE s.tbl = " + lit + " AND s.pk IS NOT NEW." + k +
                                 " COLLATE BINARY AND NOT EXISTS (SELECT 1 FROM " + tbl + " WHERE " + k +
                                 " = s.pk COLLATE BINARY) ORDER BY s.rowid;\n";
    const std::string same_key = "s.tbl = " + lit + " AND s.pk = NEW." + k + " COLLATE BINARY";
    const std::string existed = "EXISTS (SELECT 1 FROM " + scratch + " AS s WHERE " + same_key + ")";
    // The values of the row that NEW replaced under its own key: NULL when
    // there was none, so a create never has `old`.
    const std::string replaced_old =
        "(SELECT s.old FROM " + scratch + " AS s WHERE " + same_key + " ORDER BY s.rowid LIMIT 1)";
    const std::string key_changed = "OLD." + k + " IS NOT NEW." + k + " COLLATE BINARY";
    std::vector<std::string> out;

    // BEFORE INSERT: remember the rows this insert may replace. Leftovers of
    // an insert that was then ignored (OR IGNORE, DO NOTHING) are cleared by
    // the next trigger on this table.
    out.push_back("CREATE TRIGGER " + trigger_name(t, "before_insert") + " BEFORE INSERT ON " + tbl + " BEGIN\n" +
                  clear + remember + " AND (" + conflict_sql(t, "NEW") + ") GROUP BY " + k + ";\nEND");
    // AFTER INSERT: deletes caused by REPLACE, then the insert itself; a row
    // that replaced one with the same key is an update.
    out.push_back("CREATE TRIGGER " + trigger_name(t, "after_insert") + " AFTER INSERT ON " + tbl + " BEGIN\n" +
                  replaced + insert_log + "VALUES (" + lit + ", CASE WHEN " + existed +
                  " THEN 'update' ELSE 'create' END, NEW." + k + ", " + data_sql(t, "NEW") + ", " + replaced_old +
                  ");\n" + clear + cap + "END");
    // UPDATE OR REPLACE can delete other rows too.
    out.push_back("CREATE TRIGGER " + trigger_name(t, "before_update") + " BEFORE UPDATE ON " + tbl + " BEGIN\n" +
                  clear + remember + " AND " + k + " IS NOT OLD." + k + " AND (" + conflict_sql(t, "NEW") +
                  ") GROUP BY " + k + ";\nEND");
    // A changed key is a delete of the old id, carrying the old row, and a
    // create of the new one — or an update of it when the new key replaced
    // a row, whose values are then the update's `old`.
    out.push_back("CREATE TRIGGER " + trigger_name(t, "after_update") + " AFTER UPDATE ON " + tbl + " BEGIN\n" +
                  replaced + insert_log + "SELECT " + lit + ", 'delete', OLD." + k + ", NULL, " +
                  data_sql(t, "OLD") + " WHERE " + key_changed + ";\n" + insert_log + "VALUES (" + lit +
                  ", CASE WHEN " + key_changed + " AND NOT " + existed + " THEN 'create' ELSE 'update' END, NEW." +
                  k + ", " + data_sql(t, "NEW") + ", CASE WHEN " + key_changed + " THEN " + replaced_old +
                  " ELSE " + data_sql(t, "OLD") + " END);\n" + clear + cap + "END");
    out.push_back("CREATE TRIGGER " + trigger_name(t, "after_delete") + " AFTER DELETE ON " + tbl + " BEGIN\n" +
                  insert_log + "VALUES (" + lit + ", 'delete', OLD." + k + ", NULL, " + data_sql(t, "OLD") +
                  ");\nDELETE FROM " + scratch + " WHERE tbl = " + lit + " AND pk = OLD." + k + ";\n" + cap + "END");
    return out;
}

void install(sqlite_connection& db, const std::vector<capture_table>& tables, std::size_t max_log_rows) {
    // IMMEDIATE: take the write lock first, so writers see either the old
    // triggers or the new ones, never a mix.
    db.exec("BEGIN IMMEDIATE");
    try {
        // AUTOINCREMENT: ids are never reused, even once pruning emptied the
        // log, so a saved position stays meaningful.
        db.exec(std::string("CREATE TABLE IF NOT EXISTS ") + log_table +
                " (id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL, pk, data TEXT, "
                "old TEXT);\n"
                "CREATE TABLE IF NOT EXISTS " + state_table +
                " (id INTEGER PRIMARY KEY CHECK (id = 1), last_id INTEGER NOT NULL);\n"
                "INSERT OR IGNORE INTO " + state_table + " (id, last_id) VALUES (1, 0);\n"
                // No unique constraint here: a writer's ON CONFLICT clause
                // overrides the triggers' own and could turn a duplicate into
                // a failed write.
                "CREATE TABLE IF NOT EXISTS " + scratch_table + " (tbl TEXT NOT NULL, pk, old TEXT);\n"
                "CREATE INDEX IF NOT EXISTS " + scratch_table + "_by_key ON " + scratch_table + " (tbl, pk);");
        std::vector<std::string> old;
        {
            auto q = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND substr(name, 1, ?1) = ?2");
            q.bind(1, static_cast<std::int64_t>(object_prefix.size())).bind(2, object_prefix);
            while (q.step()) old.push_back(q.column_text(0));
        }
        for (const auto& n : old) db.exec("DROP TRIGGER " + quote_identifier(n));
        // Tables made by a version without `old`: the column is added (NULL in
        // the rows already logged, which are then sent without `old`). After
        // the triggers are gone, so the schema check of ALTER TABLE sees none.
        for (const char* table : {log_table, scratch_table})
            if (!has_table_column(db, table, "old"))
                db.exec(std::string("ALTER TABLE ") + table + " ADD COLUMN old TEXT");
        for (const auto& t : tables)
            for (const auto& sql : trigger_sql(t, max_log_rows)) db.exec(sql);
        db.exec("COMMIT");
    } catch (...) {
        db.rollback_if_open();
        throw;
    }
}

void uninstall(sqlite_connection& db) {
    db.exec("BEGIN IMMEDIATE");
    try {
        std::vector<std::string> objects;
        {
            auto q = db.prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND substr(name, 1, ?1) = ?2");
            q.bind(1, static_cast<std::int64_t>(object_prefix.size())).bind(2, object_prefix);
            while (q.step()) objects.push_back(q.column_text(0));
        }
        for (const auto& n : objects) db.exec("DROP TRIGGER " + quote_identifier(n));
        db.exec(std::string("DROP TABLE IF EXISTS ") + log_table + "; DROP TABLE IF EXISTS " + state_table +
                "; DROP TABLE IF EXISTS " + scratch_table + ";");
        db.exec("COMMIT");
    } catch (...) {
        db.rollback_if_open();
        throw;
    }
}

}  // namespace notifier::source
