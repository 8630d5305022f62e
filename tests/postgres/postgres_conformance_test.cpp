// SPDX-License-Identifier: MIT
// The change-source contract (tests/support/source_conformance.hpp) against
// notifier::postgres and a real PostgreSQL server: a database and a slot of
// its own per test.

#include "postgres/pg_fixture.hpp"
#include "support/source_conformance.hpp"

namespace notifier::test {
namespace {

class postgres_database final : public source_database {
public:
    explicit postgres_database(const std::string& test) : db_("c_" + test), writer_(db_.url()) {}

    void exec(const std::string& sql) override { writer_.exec(sql); }
    std::unique_ptr<change_source> make_source(notifier n) override {
        auto o = db_.options({"items", "posts"});
        o.on_error = nullptr;
        return std::make_unique<postgres_source>(std::move(n), std::move(o));
    }
    // The walsender is killed: the source reconnects.
    void break_source() override {
        db_.admin().exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
                         db_.name() + "'");
    }

private:
    pg_database db_;
    pg_writer writer_;
};

INSTANTIATE_TEST_SUITE_P(postgres, source_conformance,
                         ::testing::Values(source_backend{"postgres",
                                                          [](const std::string& test) {
                                                              return std::make_unique<postgres_database>(test);
                                                          }}),
                         source_backend_name);

}  // namespace
}  // namespace notifier::test
