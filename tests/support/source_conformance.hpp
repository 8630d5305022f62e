// SPDX-License-Identifier: MIT
#pragma once
// The contract every change source keeps (include/notifier/source/change_source.hpp),
// as a value-parameterised GoogleTest suite run against each backend with a
// real database. A backend's test instantiates it with a factory that opens
// a fresh database for one test: a writer for SQL, and sources on it.
//
//   #include "support/source_conformance.hpp"
//   INSTANTIATE_TEST_SUITE_P(sqlite, source_conformance,
//       ::testing::Values(notifier::test::source_backend{"sqlite", open_sqlite}),
//       notifier::test::source_backend_name);
//
// The suite defines its tests in this header: include it in exactly one
// translation unit of a test executable.

#include "support/collector.hpp"
#include "support/eventually.hpp"
#include "support/test_server.hpp"

#include <notifier/notifier.hpp>
#include <notifier/source/change_source.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace notifier::test {

/// The tables every backend watches, created by the suite. The backend's
/// sources send (at least) forum_id and title of posts in `data` and `old`.
inline constexpr const char* conformance_schema =
    "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);"
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER NOT NULL, title TEXT)";

/// One fresh database of a backend, for one test.
class source_database {
public:
    virtual ~source_database() = default;
    /// Runs SQL (one or more statements) on the test's writer connection;
    /// throws std::runtime_error with the database's message when it fails.
    virtual void exec(const std::string& sql) = 0;
    /// A source watching `items` and `posts` of this database, not started,
    /// without an error handler. Each call makes a new one on the same
    /// position (a restarted process).
    virtual std::unique_ptr<change_source> make_source(notifier n) = 0;
    /// Makes a running source's next step fail (a dropped connection, a
    /// table gone) until mend(), which the source must get over.
    virtual void break_source() = 0;
    virtual void mend() {}
};

struct source_backend {
    std::string name;  ///< test name suffix: [A-Za-z0-9_]
    /// Opens a fresh database; `test` ([a-z0-9_]) names it where names matter.
    std::function<std::unique_ptr<source_database>(const std::string& test)> open;
};

inline void PrintTo(const source_backend& b, std::ostream* os) { *os << b.name; }
inline std::string source_backend_name(const ::testing::TestParamInfo<source_backend>& info) {
    return info.param.name;
}

/// "collection action id" per notification.
inline std::vector<std::string> summary(const std::vector<notification>& v) {
    std::vector<std::string> out;
    for (const auto& n : v) out.push_back(n.collection + " " + n.action + " " + n.id.value_or("-"));
    return out;
}

class source_conformance : public ::testing::TestWithParam<source_backend> {
protected:
    static constexpr std::chrono::seconds limit{30};

    void SetUp() override {
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        name = name.substr(0, name.find('/'));
        for (auto& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
        db_ = GetParam().open(name);
        db_->exec(conformance_schema);
    }
    void TearDown() override {
        source_.reset();
        db_.reset();
    }

    /// A source emitting into `got_`, started (the one before it is destroyed).
    change_source& start() {
        source_.reset();
        source_ = db_->make_source(got_.make_notifier());
        source_->start();
        return *source_;
    }
    /// What was emitted for everything committed before the call.
    std::vector<std::string> emitted() {
        EXPECT_TRUE(source_->sync(limit));
        return summary(got_.take());
    }
    /// The same, the notifications in full.
    std::vector<notification> emitted_rows() {
        EXPECT_TRUE(source_->sync(limit));
        return got_.take();
    }
    void insert_items(int from, int to) {
        for (int i = from; i <= to; ++i) db_->exec("INSERT INTO items (id) VALUES (" + std::to_string(i) + ")");
    }

    std::unique_ptr<source_database> db_;
    collector got_{limit};
    std::unique_ptr<change_source> source_;
};

using list = std::vector<std::string>;

/// A post's `data` or `old` holds these values (and maybe more columns).
inline void expect_post(const std::optional<std::string>& json, int forum_id, const char* title) {
    ASSERT_TRUE(json) << "absent";
    const auto row = boost::json::parse(*json);
    EXPECT_EQ(row.at("forum_id"), forum_id) << *json;
    EXPECT_EQ(row.at("title"), title) << *json;
}

// --- exactly the committed changes ---

TEST_P(source_conformance, insert_update_delete_become_create_update_delete) {
    start();
    db_->exec("INSERT INTO items (id, label) VALUES (1, 'a')");
    db_->exec("UPDATE items SET label = 'b' WHERE id = 1");
    db_->exec("DELETE FROM items WHERE id = 1");
    EXPECT_EQ(emitted(), (list{"items create 1", "items update 1", "items delete 1"}));
}

TEST_P(source_conformance, a_rolled_back_transaction_emits_nothing) {
    start();
    db_->exec("BEGIN; INSERT INTO items (id) VALUES (1); UPDATE items SET label = 'x'; ROLLBACK");
    db_->exec("INSERT INTO items (id) VALUES (2)");
    EXPECT_EQ(emitted(), (list{"items create 2"}));
}

TEST_P(source_conformance, a_savepoint_rolled_back_emits_only_the_kept_part) {
    start();
    db_->exec("BEGIN;"
              "INSERT INTO items (id, label) VALUES (1, 'a');"
              "SAVEPOINT s;"
              "INSERT INTO items (id, label) VALUES (2, 'b');"
              "UPDATE items SET label = 'a2' WHERE id = 1;"
              "DELETE FROM items WHERE id = 1;"
              "ROLLBACK TO s;"
              "INSERT INTO items (id, label) VALUES (3, 'c');"
              "RELEASE s;"
              "COMMIT");
    EXPECT_EQ(emitted(), (list{"items create 1", "items create 3"}));
}

TEST_P(source_conformance, a_failed_statement_leaves_nothing) {
    start();
    db_->exec("INSERT INTO items (id) VALUES (1)");
    // The first row is written, then the key collides: the statement is undone.
    EXPECT_THROW(db_->exec("INSERT INTO items (id) VALUES (2), (1)"), std::runtime_error);
    EXPECT_THROW(db_->exec("INSERT INTO posts (id, forum_id) VALUES (1, 7), (2, NULL)"), std::runtime_error);
    db_->exec("INSERT INTO items (id) VALUES (3)");
    EXPECT_EQ(emitted(), (list{"items create 1", "items create 3"}));
}

TEST_P(source_conformance, a_changed_key_is_a_delete_carrying_the_old_row_then_a_create) {
    start();
    db_->exec("INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a')");
    db_->exec("UPDATE posts SET id = 2, forum_id = 8 WHERE id = 1");
    const auto got = emitted_rows();
    ASSERT_EQ(summary(got), (list{"posts create 1", "posts delete 1", "posts create 2"}));
    expect_post(got[1].old, 7, "a");
    EXPECT_FALSE(got[2].old);
}

// --- order ---

TEST_P(source_conformance, transactions_across_tables_keep_commit_and_statement_order) {
    start();
    db_->exec("BEGIN; INSERT INTO items (id) VALUES (1); INSERT INTO posts (id, forum_id) VALUES (1, 7);"
              "UPDATE items SET label = 'x' WHERE id = 1; COMMIT");
    db_->exec("BEGIN; INSERT INTO posts (id, forum_id) VALUES (2, 7); DELETE FROM items WHERE id = 1; COMMIT");
    db_->exec("INSERT INTO items (id) VALUES (3)");
    db_->exec("BEGIN; UPDATE posts SET title = 't' WHERE id = 2; INSERT INTO items (id) VALUES (4); COMMIT");
    EXPECT_EQ(emitted(), (list{"items create 1", "posts create 1", "items update 1", "posts create 2",
                               "items delete 1", "items create 3", "posts update 2", "items create 4"}));
}

// --- `old`: what a filtered subscription needs to see a row leave ---

TEST_P(source_conformance, old_holds_the_previous_values_of_a_moved_row_and_the_row_deleted) {
    start();
    db_->exec("INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a')");
    db_->exec("UPDATE posts SET forum_id = 8, title = 'b' WHERE id = 1");
    db_->exec("DELETE FROM posts WHERE id = 1");
    const auto got = emitted_rows();
    ASSERT_EQ(summary(got), (list{"posts create 1", "posts update 1", "posts delete 1"}));
    EXPECT_FALSE(got[0].old);
    expect_post(got[1].old, 7, "a");  // a filter on forum 7 sees the row leave
    expect_post(got[1].data, 8, "b");
    expect_post(got[2].old, 8, "b");
}

// --- delivery across restarts and crashes ---

TEST_P(source_conformance, a_restarted_source_resumes_where_it_left_off) {
    auto& first = start();
    insert_items(1, 2);
    EXPECT_EQ(emitted(), (list{"items create 1", "items create 2"}));
    first.stop();
    // Written while no source runs.
    db_->exec("INSERT INTO items (id) VALUES (3); UPDATE items SET label = 'x' WHERE id = 1");
    db_->exec("BEGIN; DELETE FROM items; ROLLBACK");
    db_->exec("DELETE FROM items WHERE id = 2");
    start();  // a new source on the same database, as a new process would make
    EXPECT_EQ(emitted(), (list{"items create 3", "items update 1", "items delete 2"}));
    insert_items(4, 4);
    EXPECT_EQ(emitted(), (list{"items create 4"}));
}

// A process running a source is killed (SIGKILL: no stop(), nothing saved at
// exit) while changes keep coming; a new source emits every change the dead
// one may not have handed over. Repeats are allowed, losses are not.
TEST_P(source_conformance, after_a_crash_nothing_is_lost) {
    start().stop();  // set up (triggers, slot): changes are kept from here on
    source_.reset();
    insert_items(1, 20);
    const auto handed = std::filesystem::temp_directory_path() /
                        ("notifier-crash-" + std::to_string(::getpid()) + "-" + GetParam().name);
    std::filesystem::remove(handed);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child hands every id over to the file (written at once, so the
        // kill loses nothing of it) and runs until killed.
        const int fd = ::open(handed.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0) ::_exit(2);
        auto s = db_->make_source(notifier([fd](notification&& n) {
            const std::string line = n.id.value_or("-") + "\n";
            if (::write(fd, line.data(), line.size()) < 0) ::_exit(3);
        }));
        try {
            s->start();
        } catch (...) {
            ::_exit(4);
        }
        for (;;) ::pause();
    }
    auto lines = [&] {
        std::vector<std::string> out;
        std::ifstream in(handed);
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    };
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (lines().size() < 20 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    insert_items(21, 40);  // while it runs: some handed over, some not
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
    insert_items(41, 60);

    const auto before = lines();
    std::filesystem::remove(handed);
    ASSERT_GE(before.size(), 20u);
    start();
    std::map<std::string, int> seen;
    for (const auto& id : before) ++seen[id];
    const auto after = emitted();
    for (const auto& n : after) ++seen[n.substr(n.rfind(' ') + 1)];
    for (int i = 1; i <= 60; ++i) EXPECT_GE(seen[std::to_string(i)], 1) << "lost: " << i;
    // The new source emits each change once and in order.
    for (std::size_t k = 1; k < after.size(); ++k) {
        const auto id = [&](std::size_t j) { return std::stoi(after[j].substr(after[j].rfind(' ') + 1)); };
        EXPECT_LT(id(k - 1), id(k)) << "out of order at " << k;
    }
    RecordProperty("handed_over_before_the_crash", static_cast<int>(before.size()));
    RecordProperty("emitted_after", static_cast<int>(after.size()));
}

TEST_P(source_conformance, a_stopped_hub_keeps_the_position) {
    {
        test_server server;
        server.stop();
        auto s = db_->make_source(server.make_notifier());
        s->start();
        insert_items(1, 1);
        EXPECT_FALSE(s->sync(std::chrono::seconds(1)));  // the hub refuses: nothing is emitted
    }
    start();
    EXPECT_EQ(emitted(), (list{"items create 1"}));
}

// --- failure ---

TEST_P(source_conformance, a_runtime_error_goes_to_the_hubs_log_and_the_source_carries_on) {
    std::mutex m;
    std::vector<std::string> lines;
    ::notifier::options o;
    o.log_sink = [&](std::string_view line) {
        std::lock_guard lock(m);
        lines.emplace_back(line);
    };
    test_server server(o);
    source_ = db_->make_source(server.make_notifier());
    source_->start();
    insert_items(1, 1);
    ASSERT_TRUE(source_->sync(limit));
    db_->break_source();
    EXPECT_TRUE(eventually([&] {
        std::lock_guard lock(m);
        return std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
            return l.find("level=warn event=source_error source=") != std::string::npos;
        });
    }));
    db_->mend();
    insert_items(2, 2);
    EXPECT_TRUE(source_->sync(limit));
}

TEST_P(source_conformance, sync_is_false_unless_the_source_runs) {
    auto s = db_->make_source(got_.make_notifier());
    EXPECT_FALSE(s->sync(std::chrono::milliseconds(10)));
    s->start();
    EXPECT_TRUE(s->sync(limit));
    s->stop();
    s->stop();  // idempotent
    EXPECT_FALSE(s->sync(std::chrono::milliseconds(10)));
}

}  // namespace notifier::test
