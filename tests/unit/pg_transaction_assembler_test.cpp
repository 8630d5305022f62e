// SPDX-License-Identifier: MIT
// transaction_assembler: decoded pgoutput messages in, committed
// transactions out, as one table of named streams. No server: the messages
// are built as the decoder returns them.

#include "source/postgres/transaction_assembler.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace notifier::pg {
namespace {

// --- the stream, as the decoder gives it ---

struct restart_stream {};  // a new connection: the assembler's restart()
using step = std::variant<message, restart_stream>;

constexpr std::uint32_t t_oid = 1, u_oid = 2, other_oid = 3;

step rel(std::uint32_t oid, const char* name) {
    return message{relation{oid, "public", name, 'f', {{"id", 23, true}, {"v", 25, false}}}};
}
step B() { return message{begin{}}; }
step C(lsn end) { return message{commit{end - 1, end, static_cast<std::int64_t>(end) * 1000}}; }
// Ids as string literals: values point into their text, which must outlive them.
step ins(std::uint32_t oid, std::string_view id) {
    return message{change{'I', oid, 0, {}, {{value::kind::text, id}, {value::kind::null, {}}}}};
}
step upd(std::uint32_t oid, std::string_view id) {
    tuple row{{value::kind::text, id}, {value::kind::text, "x"}};
    return message{change{'U', oid, 'O', row, row}};
}
step del(std::uint32_t oid, std::string_view id) {
    return message{change{'D', oid, 'O', {{value::kind::text, id}, {value::kind::null, {}}}, {}}};
}
step trunc(std::vector<std::uint32_t> oids) { return message{truncate{std::move(oids)}}; }
step type_message() { return message{other{'Y'}}; }

struct assembler_case {
    const char* name;
    std::vector<step> stream;
    /// One line per transaction handed out: "<end>: <collection action id>, …",
    /// or "error: <what>" where add() threw (the stream then restarts).
    std::vector<std::string> want;
    std::size_t max_changes = 10'000;
};

void PrintTo(const assembler_case& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> run(const assembler_case& c) {
    transaction_assembler a(1 << 20, c.max_changes);
    a.watch({{"public", "t", "t", {"id"}}, {"public", "u", "u", {"id"}}});
    std::vector<std::string> out;
    for (const auto& s : c.stream) {
        if (std::holds_alternative<restart_stream>(s)) {
            a.restart();
            continue;
        }
        try {
            auto t = a.add(std::get<message>(s));
            if (!t) continue;
            std::string line = std::to_string(t->end_lsn) + ":";
            for (const auto& n : t->changes)
                line += (line.back() == ':' ? " " : ", ") + n.collection + " " + n.action + " " + n.id.value_or("-");
            EXPECT_EQ(t->commit_time, static_cast<std::int64_t>(t->end_lsn) * 1000);
            EXPECT_FALSE(a.in_transaction());
            out.push_back(line);
        } catch (const std::runtime_error& e) {
            out.push_back(std::string("error: ") + e.what());
            a.restart();
        }
    }
    return out;
}

const std::vector<assembler_case> assembler_cases = {
    {"one_transaction_in_statement_order",
     {rel(t_oid, "t"), B(), ins(t_oid, "1"), upd(t_oid, "1"), del(t_oid, "1"), C(100)},
     {"100: t create 1, t update 1, t delete 1"}},
    {"transactions_in_commit_order",
     {rel(t_oid, "t"), rel(u_oid, "u"), B(), ins(u_oid, "1"), C(100), B(), ins(t_oid, "2"), ins(u_oid, "3"), C(200)},
     {"100: u create 1", "200: t create 2, u create 3"}},
    {"unwatched_tables_are_skipped_and_their_transactions_still_end",
     {rel(t_oid, "t"), rel(other_oid, "other"), B(), ins(other_oid, "1"), C(100), B(), ins(other_oid, "2"),
      ins(t_oid, "3"), C(200)},
     {"100:", "200: t create 3"}},
    {"a_transaction_cut_off_by_a_new_stream_is_dropped",
     {rel(t_oid, "t"), B(), ins(t_oid, "1"), restart_stream{}, rel(t_oid, "t"), B(), ins(t_oid, "2"), C(200)},
     {"200: t create 2"}},
    {"a_begin_inside_a_transaction_drops_the_unfinished_one",
     {rel(t_oid, "t"), B(), ins(t_oid, "1"), B(), ins(t_oid, "2"), C(200)},
     {"200: t create 2"}},
    {"truncate_is_one_reset_per_watched_table",
     {rel(t_oid, "t"), rel(u_oid, "u"), rel(other_oid, "other"), B(), ins(t_oid, "1"),
      trunc({t_oid, other_oid, u_oid, 99}), C(100)},
     {"100: t create 1, t reset -, u reset -"}},
    {"a_big_transaction_collapses_to_one_reset_per_collection_touched",
     {rel(t_oid, "t"), rel(u_oid, "u"), B(), ins(u_oid, "1"), ins(t_oid, "2"), ins(t_oid, "3"), ins(t_oid, "4"),
      ins(u_oid, "5"), C(100), B(), ins(t_oid, "6"), C(200)},
     {"100: t reset -, u reset -", "200: t create 6"},
     3},
    {"a_collection_touched_after_collapsing_is_reset_too",
     {rel(t_oid, "t"), rel(u_oid, "u"), B(), ins(t_oid, "1"), ins(t_oid, "2"), ins(u_oid, "3"), trunc({u_oid}),
      C(100)},
     {"100: t reset -, u reset -"},
     1},
    {"up_to_the_limit_changes_are_sent_one_by_one",
     {rel(t_oid, "t"), B(), ins(t_oid, "1"), ins(t_oid, "2"), ins(t_oid, "3"), C(100)},
     {"100: t create 1, t create 2, t create 3"},
     3},
    {"a_relation_announced_again_under_another_name_is_no_longer_watched",
     {rel(t_oid, "t"), B(), ins(t_oid, "1"), C(100), rel(t_oid, "renamed"), B(), ins(t_oid, "2"), C(200)},
     {"100: t create 1", "200:"}},
    {"type_and_origin_messages_change_nothing",
     {type_message(), rel(t_oid, "t"), B(), type_message(), ins(t_oid, "1"), C(100)},
     {"100: t create 1"}},
    {"a_change_of_an_unannounced_relation_is_an_error",
     {B(), ins(t_oid, "1"), C(100)},
     {"error: change of an unannounced relation", "error: a commit outside a transaction"}},
    {"relations_are_forgotten_with_the_stream",
     {rel(t_oid, "t"), restart_stream{}, B(), ins(t_oid, "1")},
     {"error: change of an unannounced relation"}},
    {"a_change_outside_a_transaction_is_an_error",
     {rel(t_oid, "t"), ins(t_oid, "1"), trunc({t_oid}), B(), ins(t_oid, "2"), C(100)},
     {"error: a change outside a transaction", "error: a truncate outside a transaction",
      "error: change of an unannounced relation", "error: a commit outside a transaction"}},
    {"a_commit_without_begin_is_an_error", {C(100)}, {"error: a commit outside a transaction"}},
};

class assembling : public ::testing::TestWithParam<assembler_case> {};

TEST_P(assembling, hands_out_committed_transactions_whole) { EXPECT_EQ(run(GetParam()), GetParam().want); }

INSTANTIATE_TEST_SUITE_P(streams, assembling, ::testing::ValuesIn(assembler_cases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace notifier::pg
