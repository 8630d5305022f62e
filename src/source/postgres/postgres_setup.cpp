// SPDX-License-Identifier: MIT
#include "source/postgres/postgres_setup.hpp"

#include "core/sql_quote.hpp"

#include <notifier/notification.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace notifier::pg {

namespace asio = boost::asio;

namespace {

// GCC 12 cannot keep an initializer_list's array alive across co_await: pass
// parameters as a named vector.
std::vector<std::string> params(std::string a) { return {std::move(a)}; }

bool is_word(const std::string& s, bool lower_only) {
    if (s.empty() || s.size() > 63) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               (!lower_only && c >= 'A' && c <= 'Z');
    });
}

struct table_name {
    std::string schema;  // empty: the search path decides
    std::string name;
};

table_name split(const std::string& t) {
    const auto dot = t.find('.');
    if (dot == std::string::npos) return {"", t};
    return {t.substr(0, dot), t.substr(dot + 1)};
}

std::string qualified(const table_name& t) {
    return t.schema.empty() ? core::quote_identifier(t.name)
                            : core::quote_identifier(t.schema) + "." + core::quote_identifier(t.name);
}

std::string table_list(const postgres_source_options& o) {
    std::string out;
    for (const auto& t : o.tables) {
        if (!out.empty()) out += ", ";
        out += qualified(split(t));
    }
    return out;
}

constexpr const char* install_hint =
    "run `notifierd postgres install` with the same --postgres, --tables, --postgres-slot and "
    "--postgres-publication (or start with --postgres-install)";

}  // namespace

void validate_names(const postgres_source_options& o) {
    if (o.conninfo.empty()) throw std::invalid_argument("postgres: no connection string");
    if (!is_word(o.slot, true))
        throw std::invalid_argument("postgres: slot name \"" + o.slot + "\" must be 1-63 of [a-z0-9_]");
    if (!is_word(o.publication, true))
        throw std::invalid_argument("postgres: publication name \"" + o.publication + "\" must be 1-63 of [a-z0-9_]");
}

void validate(const postgres_source_options& o) {
    if (o.tables.empty()) throw std::invalid_argument("postgres: no table to watch");
    validate_names(o);
    std::set<std::string> names;
    for (const auto& t : o.tables) {
        const auto parts = split(t);
        if ((!parts.schema.empty() || t.find('.') != std::string::npos) && !is_word(parts.schema, false))
            throw std::invalid_argument("postgres: table \"" + t + "\": expected [schema.]name of [A-Za-z0-9_]");
        if (!is_word(parts.name, false) || parts.name.find('.') != std::string::npos)
            throw std::invalid_argument("postgres: table \"" + t + "\": expected [schema.]name of [A-Za-z0-9_]");
        if (!names.insert(parts.name).second)
            throw std::invalid_argument("postgres: two tables named \"" + parts.name +
                                        "\": the table name is the collection");
    }
    if (o.max_data_bytes < 2) throw std::invalid_argument("postgres: max_data_bytes too small");
}

std::vector<std::string> install_statements(const postgres_source_options& o) {
    validate(o);
    const std::string pub = core::quote_identifier(o.publication);
    const std::string lit_pub = core::quote_literal(o.publication);
    const std::string lit_slot = core::quote_literal(o.slot);
    const std::string tables = table_list(o);
    std::vector<std::string> out;
    if (!o.keep_replica_identity) {
        // First, so that every change the slot streams has its old row. Only
        // where not FULL yet: the ALTER takes an ACCESS EXCLUSIVE lock, which
        // a repeated install (or every start with `install`) should not.
        std::string alter = "DO $notifier$ BEGIN\n";
        for (const auto& t : o.tables) {
            const auto name = qualified(split(t));
            alter += "  IF (SELECT relreplident FROM pg_class WHERE oid = " + core::quote_literal(name) +
                     "::regclass) <> 'f' THEN\n"
                     "    ALTER TABLE " + name + " REPLICA IDENTITY FULL;\n"
                     "  END IF;\n";
        }
        alter += "END $notifier$";
        out.push_back(std::move(alter));
    }
    out.push_back(
        "DO $notifier$ BEGIN\n"
        "  IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = " + lit_pub + ") THEN\n"
        "    ALTER PUBLICATION " + pub + " SET TABLE " + tables + ";\n"
        "  ELSE\n"
        "    CREATE PUBLICATION " + pub + " FOR TABLE " + tables + ";\n"
        "  END IF;\n"
        "END $notifier$");
    // Last, and on its own: a slot cannot be created in a transaction that wrote.
    out.push_back(
        "SELECT pg_create_logical_replication_slot(" + lit_slot + ", 'pgoutput')\n"
        "  WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = " + lit_slot + ")");
    return out;
}

std::vector<std::string> uninstall_statements(const postgres_source_options& o) {
    validate_names(o);
    return {
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = " +
            core::quote_literal(o.slot),
        "DROP PUBLICATION IF EXISTS " + core::quote_identifier(o.publication),
    };
}

asio::awaitable<std::vector<watched_table>> prepare(pg_connection& c, const postgres_source_options& o,
                                                    bool streamed_before, bool& slot_recreated) {
    slot_recreated = false;
    const auto level = co_await c.exec("SHOW wal_level");
    if (level.values.empty() || level.values[0][0] != "logical")
        throw std::runtime_error("wal_level is " + (level.values.empty() ? "unknown" : *level.values[0][0]) +
                                 ": set wal_level = logical in postgresql.conf and restart PostgreSQL");

    // Tables: schema and primary key from the catalog.
    std::vector<watched_table> tables;
    for (const auto& t : o.tables) {
        const auto r = co_await c.exec("SELECT n.nspname, c.relname, c.oid::text, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = to_regclass($1)",
            params(qualified(split(t))));
        if (r.values.empty()) throw std::runtime_error("table \"" + t + "\" does not exist");
        // pgoutput names the partition a row went to, not the parent: every
        // change would be dropped. Refuse instead of watching nothing.
        if (r.values[0][3] == "p")
            throw std::runtime_error("table \"" + t + "\" is partitioned: watch its partitions instead (each is a collection)");
        if (r.values[0][3] != "r")
            throw std::runtime_error("\"" + t + "\" is not a table (views and foreign tables cannot be watched)");
        watched_table w{*r.values[0][0], *r.values[0][1], *r.values[0][1], {}};
        const auto keys = co_await c.exec("SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord",
            params(*r.values[0][2]));
        for (const auto& row : keys.values) w.key.push_back(*row[0]);
        if (w.key.empty())
            throw std::runtime_error("table \"" + t +
                                     "\" has no primary key: notifications need it as their id, and PostgreSQL "
                                     "refuses updates and deletes of a published table without one");
        if (!is_valid_collection(w.collection))
            throw std::runtime_error("table \"" + t + "\": its name is not a valid collection");
        tables.push_back(std::move(w));
    }

    // The publication must publish exactly these tables.
    std::set<std::pair<std::string, std::string>> published;
    const auto pub_tables = co_await c.exec("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", params(o.publication));
    for (const auto& row : pub_tables.values) published.emplace(*row[0], *row[1]);
    std::set<std::pair<std::string, std::string>> wanted;
    for (const auto& t : tables) wanted.emplace(t.schema, t.name);
    const auto pub_exists =
        !(co_await c.exec("SELECT 1 FROM pg_publication WHERE pubname = $1", params(o.publication))).values.empty();
    const auto slot = co_await c.exec("SELECT plugin, database = current_database(), coalesce(wal_status, '') FROM pg_replication_slots "
        "WHERE slot_name = $1",
        params(o.slot));
    bool slot_ok = !slot.values.empty();
    if (slot_ok && (slot.values[0][0] != "pgoutput" || slot.values[0][1] != "t"))
        throw std::runtime_error("replication slot \"" + o.slot +
                                 "\" belongs to another plugin or database: choose another --postgres-slot");
    const bool slot_lost = slot_ok && slot.values[0][2] == "lost";

    if (!o.install) {
        if (!pub_exists) throw std::runtime_error("publication \"" + o.publication + "\" does not exist: " + install_hint);
        if (published != wanted)
            throw std::runtime_error("publication \"" + o.publication + "\" does not publish exactly the tables " +
                                     table_list(o) + ": " + install_hint);
        if (!slot_ok) {
            if (!streamed_before)
                throw std::runtime_error("replication slot \"" + o.slot + "\" does not exist: " + install_hint);
            throw std::runtime_error("replication slot \"" + o.slot + "\" was dropped: " + install_hint);
        }
        if (slot_lost)
            throw std::runtime_error("replication slot \"" + o.slot +
                                     "\" was invalidated (max_slot_wal_keep_size): drop it with `notifierd postgres "
                                     "uninstall` and install again");
        co_return tables;
    }
    // Install: the replica identity and the publication first, then the
    // slot (which must not exist in the same transaction as a write).
    if (slot_lost) co_await c.exec("SELECT pg_drop_replication_slot($1)", params(o.slot));
    for (const auto& statement : install_statements(o)) co_await c.exec(statement);
    slot_recreated = slot_lost || (!slot_ok && streamed_before);
    co_return tables;
}

}  // namespace notifier::pg
