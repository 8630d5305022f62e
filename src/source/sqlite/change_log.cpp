// SPDX-License-Identifier: MIT
#include "source/sqlite/change_log.hpp"

#include "source/sqlite/sqlite_schema.hpp"

namespace notifier::source {

change_log::change_log(const std::string& path, std::chrono::milliseconds busy_timeout)
    : db_(path, busy_timeout),
      version_(db_.get(), "PRAGMA data_version"),
      read_(db_.get(), std::string("SELECT id, tbl, op, pk, data, old FROM ") + log_table +
                           " WHERE id > ?1 ORDER BY id LIMIT ?2"),
      save_position_(db_.get(), std::string("UPDATE ") + state_table + " SET last_id = ?1 WHERE id = 1"),
      prune_(db_.get(), std::string("DELETE FROM ") + log_table + " WHERE id <= ?1") {}

std::int64_t change_log::data_version() {
    version_.reset();
    if (!version_.step()) throw sqlite_error(SQLITE_ERROR, "PRAGMA data_version returned nothing");
    const auto v = version_.column_int(0);
    version_.reset();
    return v;
}

log_position change_log::load_position() {
    // One read transaction: the three values come from the same snapshot.
    db_.exec("BEGIN");
    try {
        log_position p;
        {
            auto q = db_.prepare(std::string("SELECT last_id FROM ") + state_table + " WHERE id = 1");
            if (q.step()) p.last_id = q.column_int(0);
        }
        std::int64_t seq = 0;
        {
            auto q = db_.prepare(std::string("SELECT seq FROM sqlite_sequence WHERE name = '") + log_table + "'");
            if (q.step()) seq = q.column_int(0);
        }
        std::optional<std::int64_t> first;
        {
            auto q = db_.prepare(std::string("SELECT min(id) FROM ") + log_table + " WHERE id > ?1");
            q.bind(1, p.last_id);
            if (q.step() && q.column_type(0) != SQLITE_NULL) first = q.column_int(0);
        }
        db_.exec("COMMIT");
        if (seq < p.last_id) {
            // The log is behind the saved position: the file was restored
            // from an older copy or the log recreated. Start over from it.
            p.last_id = seq;
            p.lost = true;
        } else if (seq > p.last_id && (!first || *first != p.last_id + 1)) {
            p.lost = true;  // rows were written after the position and are gone
        }
        return p;
    } catch (...) {
        db_.rollback_if_open();
        throw;
    }
}

std::vector<log_row> change_log::read(std::int64_t after, std::size_t limit) {
    std::vector<log_row> rows;
    read_.reset();
    read_.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
    try {
        while (read_.step()) {
            log_row r;
            r.id = read_.column_int(0);
            r.table = read_.column_text(1);
            r.op = read_.column_text(2);
            r.key = read_.column_as_text(3);
            r.data = read_.column_optional_text(4);
            r.old = read_.column_optional_text(5);
            rows.push_back(std::move(r));
        }
    } catch (...) {
        read_.reset();
        throw;
    }
    read_.reset();  // ends the read transaction
    return rows;
}

void change_log::save(std::int64_t last_id) {
    db_.exec("BEGIN IMMEDIATE");
    try {
        save_position_.reset();
        save_position_.bind(1, last_id);
        save_position_.step();
        save_position_.reset();
        prune_.reset();
        prune_.bind(1, last_id);
        prune_.step();
        prune_.reset();
        db_.exec("COMMIT");
    } catch (...) {
        save_position_.reset();
        prune_.reset();
        db_.rollback_if_open();
        throw;
    }
}

}  // namespace notifier::source
