// SPDX-License-Identifier: MIT
// What a PostgreSQL walsender streams: any bytes decode to a message or an
// error, and text columns always encode to valid notifications, their old
// rows (`old`) included. The same bytes read as a stream of messages go
// through the transaction assembler and the LSN ledger, which must keep
// their rules whatever the stream: nothing of a transaction cut off (its
// Commit never came) is handed out, transactions are handed over in commit
// order and each once, and the confirmed position never passes a
// transaction the hub has not published.

#include "source/postgres/lsn_ledger.hpp"
#include "source/postgres/pgoutput_decoder.hpp"
#include "source/postgres/row_encoder.hpp"
#include "source/postgres/transaction_assembler.hpp"

#include <notifier/notification.hpp>
#include <notifier/source/change_source.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace notifier::pg;

// Names the rule that broke before aborting.
void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "pgoutput_fuzz.cpp:%d: rule broken\n", line);
    std::abort();
}
#define check(ok) check((ok), __LINE__)

void one_message(std::string_view in) {
    std::string error;
    if (auto env = decode_envelope(in, error); !env) check(!error.empty());
    error.clear();
    auto m = decode_message(in, error);
    if (!m) {
        check(!error.empty());
        return;
    }
    if (auto* c = std::get_if<change>(&*m)) {
        // Text columns only: their JSON never depends on the server's honesty.
        // Both replica identities: by key ('K' old rows) and FULL ('O', every
        // column flagged), whatever old row the bytes carry.
        constexpr std::size_t limit = 256;
        const watched_table table{"public", "t", "t", {"k"}};
        const relation by_key{1, "public", "t", 'd', {{"k", 25, true}, {"a", 25, false}, {"b", 25, false}}};
        const relation full{1, "public", "t", 'f', {{"k", 25, true}, {"a", 25, true}, {"b", 25, true}}};
        for (const auto* rel : {&by_key, &full}) {
            std::vector<notifier::notification> out;
            row_encoder(limit).encode(table, *rel, *c, out);
            for (const auto& n : out) {
                check(!notifier::validate(n));
                // `old` only where the server sent an old row, never cut.
                check(!n.old || (c->old_kind && n.old->size() <= limit && n.action != "create"));
            }
        }
    }
}

// The stream: chunks of one header byte each. 0: the connection drops and
// a new stream starts; 0xff b: the hub publishes the in-flight transaction
// b (mod their count); 0xfe + 8 bytes: a keepalive at that position; any
// other n: the next n bytes are one pgoutput message.
void stream(std::string_view in) {
    constexpr std::size_t max_changes = 4;  // small: collapsing is reached
    transaction_assembler assembler(256, max_changes);
    assembler.watch({{"public", "t", "t", {"k"}}, {"public", "u", "u", {"k"}}});
    lsn_ledger ledger;

    struct in_flight {
        lsn end;
        std::size_t count;
    };
    std::vector<in_flight> unpublished;  // what the hub has not answered
    bool open = false;                   // a Begin came and no Commit, drop or error since
    std::size_t changes_since_begin = 0, truncates_since_begin = 0;
    lsn newest_taken = 0, newest_keepalive = 0, confirmed = 0;

    auto after = [&] {
        // Confirmed: never back, never past an unpublished transaction,
        // never past what the server said.
        check(ledger.confirmed() >= confirmed);
        confirmed = ledger.confirmed();
        for (const auto& t : unpublished) check(confirmed < t.end);
        check(confirmed <= std::max(newest_taken, newest_keepalive));
        std::size_t counted = 0;
        for (const auto& t : unpublished) counted += t.count;
        check(ledger.in_flight() == counted);
        check(ledger.resume_from() >= newest_taken && ledger.resume_from() >= confirmed);
    };

    std::size_t i = 0;
    while (i < in.size()) {
        const auto h = static_cast<unsigned char>(in[i++]);
        if (h == 0) {
            assembler.restart();
            open = false;
            continue;
        }
        if (h == 0xff) {
            if (i >= in.size()) break;
            const auto pick = static_cast<unsigned char>(in[i++]);
            if (!unpublished.empty()) {
                const auto t = unpublished[pick % unpublished.size()];
                unpublished.erase(unpublished.begin() + static_cast<std::ptrdiff_t>(pick % unpublished.size()));
                ledger.published(t.end, t.count);
            }
            ledger.advance(assembler.in_transaction());
            after();
            continue;
        }
        if (h == 0xfe) {
            if (in.size() - i < 8) break;
            lsn at = 0;
            for (int k = 0; k < 8; ++k) at = at << 8 | static_cast<unsigned char>(in[i++]);
            ledger.keepalive(at);
            newest_keepalive = std::max(newest_keepalive, at);
            ledger.advance(assembler.in_transaction());
            after();
            continue;
        }
        if (in.size() - i < h) break;
        const std::string bytes(in.substr(i, h));  // messages point into it
        i += h;
        std::string error;
        const auto m = decode_message(bytes, error);
        if (!m) continue;
        std::optional<committed_transaction> t;
        try {
            t = assembler.add(*m);
        } catch (const std::runtime_error&) {
            // The source drops the stream and starts again.
            assembler.restart();
            open = false;
            continue;
        }
        if (std::holds_alternative<begin>(*m)) {
            open = true;
            changes_since_begin = truncates_since_begin = 0;
        }
        changes_since_begin += std::holds_alternative<change>(*m);
        truncates_since_begin += std::holds_alternative<truncate>(*m);
        check(assembler.in_transaction() == (open && !std::holds_alternative<commit>(*m)));
        if (!t) {
            check(!std::holds_alternative<commit>(*m));
            continue;
        }
        // Only a Commit of a transaction that began in this stream ends one,
        // and it holds nothing from before its Begin.
        check(std::holds_alternative<commit>(*m) && open);
        open = false;
        check(t->end_lsn == std::get<commit>(*m).end_lsn);
        std::size_t rows = 0;
        std::set<std::string> resets;
        for (auto& n : t->changes) {
            // A column the server names or types unexpectedly can make the
            // JSON invalid; the source then sends the row without data and
            // old, which must always be valid.
            if (notifier::validate(n)) {
                n.data.reset();
                n.data_omitted = true;
                n.old.reset();
            }
            check(!notifier::validate(n));
            check(n.collection == "t" || n.collection == "u");
            if (n.action == notifier::reset_action)
                resets.insert(n.collection);
            else
                ++rows;
        }
        check(rows <= 2 * changes_since_begin);
        check(rows <= max_changes);  // beyond, collapsed to resets
        if (changes_since_begin == 0 && truncates_since_begin == 0) check(t->changes.empty());
        if (!ledger.take(t->end_lsn)) {
            check(t->end_lsn <= std::max(newest_taken, confirmed));  // sent again, or confirmed: skipped
            continue;
        }
        check(t->end_lsn > newest_taken);  // commit order
        newest_taken = t->end_lsn;
        ledger.handed_over(t->end_lsn, t->commit_time, t->changes.size());
        if (!t->changes.empty()) unpublished.push_back({t->end_lsn, t->changes.size()});
        ledger.advance(assembler.in_transaction());
        after();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    one_message(in);
    stream(in);
    return 0;
}
