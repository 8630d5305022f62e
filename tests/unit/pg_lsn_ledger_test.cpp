// SPDX-License-Identifier: MIT
// lsn_ledger: what the PostgreSQL source hands over, skips and confirms, as
// one table of named scripts. No server.

#include "source/postgres/lsn_ledger.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace notifier::pg {
namespace {

struct ledger_case {
    const char* name;
    /// Steps separated by ';': "recv L", "keep L" (keepalive), "take E"
    /// (traced y/n), "hand E N" (handed over with N notifications, commit
    /// time E), "pub E N", "adv" / "adv txn" (traced + when it moved, = when
    /// not).
    const char* script;
    const char* trace;
    lsn confirmed, resume_from, received;
    std::size_t in_flight;
    std::int64_t oldest;
};

void PrintTo(const ledger_case& c, std::ostream* os) { *os << c.name; }

const std::vector<ledger_case> ledger_cases = {
    {"nothing_handed_over_confirms_nothing", "adv", "=", 0, 0, 0, 0, 0},
    {"a_published_transaction_is_confirmed", "take 10; hand 10 2; adv; pub 10 2; adv", "y=+", 10, 10, 0, 0, 0},
    {"an_unpublished_transaction_holds_the_ones_after_it",
     "take 10; hand 10 1; take 20; hand 20 1; pub 20 1; adv", "yy=", 0, 20, 0, 1, 10},
    {"answers_out_of_order_confirm_once_the_first_is_in",
     "take 10; hand 10 1; take 20; hand 20 1; pub 20 1; adv; pub 10 1; adv", "yy=+", 20, 20, 0, 0, 0},
    {"an_empty_transaction_is_done_at_once", "take 10; hand 10 0; adv", "y+", 10, 10, 0, 0, 0},
    {"an_empty_transaction_waits_behind_an_unpublished_one",
     "take 10; hand 10 1; take 20; hand 20 0; adv", "yy=", 0, 20, 0, 1, 10},
    {"a_transaction_sent_again_is_not_taken_again", "take 10; hand 10 0; adv; take 10; take 5; take 11", "y+nny", 10,
     11, 0, 0, 0},
    {"a_keepalive_is_confirmed_when_idle", "keep 50; adv", "+", 50, 50, 50, 0, 0},
    {"a_transaction_before_the_confirmed_position_is_not_taken", "keep 50; adv; take 40; take 50; take 60", "+nny",
     50, 60, 50, 0, 0},
    {"a_keepalive_is_not_confirmed_inside_a_transaction", "keep 50; adv txn", "=", 0, 0, 50, 0, 0},
    {"a_keepalive_waits_for_what_is_in_flight", "take 10; hand 10 1; keep 50; adv; pub 10 1; adv", "y=+", 50, 50,
     50, 0, 0},
    {"the_confirmed_position_never_goes_back", "keep 50; adv; keep 30; adv", "+=", 50, 50, 50, 0, 0},
    {"received_is_the_newest_end_of_wal", "recv 30; recv 20; keep 25", "", 0, 0, 30, 0, 0},
    {"an_unknown_answer_changes_nothing_and_never_underflows", "pub 10 5; adv", "=", 0, 0, 0, 0, 0},
    {"a_transaction_taken_but_not_handed_over_is_skipped_after_a_reconnect", "take 10; take 10", "yn", 0, 10, 0, 0,
     0},
};

class ledger_script : public ::testing::TestWithParam<ledger_case> {};

TEST_P(ledger_script, ends_where_expected) {
    const auto& c = GetParam();
    lsn_ledger l;
    std::string trace;
    std::stringstream steps(c.script);
    for (std::string item; std::getline(steps, item, ';');) {
        std::istringstream in(item);
        std::string verb, arg;
        lsn a = 0;
        std::size_t n = 0;
        in >> verb;
        if (verb == "adv") {
            in >> arg;
            trace += l.advance(arg == "txn") ? '+' : '=';
            continue;
        }
        in >> a >> n;
        if (verb == "recv") l.received(a);
        else if (verb == "keep") l.keepalive(a);
        else if (verb == "take") trace += l.take(a) ? 'y' : 'n';
        else if (verb == "hand") l.handed_over(a, static_cast<std::int64_t>(a), n);
        else if (verb == "pub") l.published(a, n);
        else FAIL() << "unknown step " << item;
    }
    EXPECT_EQ(trace, c.trace);
    EXPECT_EQ(l.confirmed(), c.confirmed);
    EXPECT_EQ(l.resume_from(), c.resume_from);
    EXPECT_EQ(l.received(), c.received);
    EXPECT_EQ(l.in_flight(), c.in_flight);
    EXPECT_EQ(l.oldest_pending_commit_time(), c.oldest);
    EXPECT_EQ(l.idle(), c.oldest == 0);
}

INSTANTIATE_TEST_SUITE_P(scripts, ledger_script, ::testing::ValuesIn(ledger_cases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace notifier::pg
