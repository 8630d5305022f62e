// SPDX-License-Identifier: MIT
// The change-source contract (tests/support/source_conformance.hpp) against
// notifier::sqlite and real database files, in both journal modes.

#include "sqlite/sqlite_fixture.hpp"
#include "support/source_conformance.hpp"

namespace notifier::test {
namespace {

class sqlite_database final : public source_database {
public:
    explicit sqlite_database(const std::string& journal_mode) : path_(dir_.file("app.db")) {
        exec("PRAGMA journal_mode=" + journal_mode);  // kept in the file
    }

    // A connection per call: none is open when the crash case forks, so the
    // child does not inherit SQLite's per-process lock bookkeeping of a
    // connection it must not use.
    void exec(const std::string& sql) override { db_writer(path_).exec(sql); }
    std::unique_ptr<change_source> make_source(notifier n) override {
        sqlite_source_options o;
        o.path = path_;
        o.tables = {{"items", "", "", {"label"}}, {"posts", "", "", {"forum_id", "title"}}};
        return std::make_unique<sqlite_source>(std::move(n), std::move(o));
    }
    // The change log disappears under the reader until it is back.
    void break_source() override { exec("ALTER TABLE _notifier_log RENAME TO _notifier_log_away"); }
    void mend() override { exec("ALTER TABLE _notifier_log_away RENAME TO _notifier_log"); }

private:
    temp_dir dir_;
    std::string path_;
};

source_backend journal(const char* name, const char* mode) {
    return {name, [mode](const std::string&) { return std::make_unique<sqlite_database>(mode); }};
}

INSTANTIATE_TEST_SUITE_P(sqlite, source_conformance,
                         ::testing::Values(journal("wal", "WAL"), journal("rollback", "DELETE")),
                         source_backend_name);

}  // namespace
}  // namespace notifier::test
