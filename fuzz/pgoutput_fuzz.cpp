// SPDX-License-Identifier: MIT
// What a PostgreSQL walsender streams: any bytes decode to a message or an
// error, and text columns always encode to valid notifications, their old
// rows (`old`) included.

#include "source/postgres/pgoutput_decoder.hpp"
#include "source/postgres/row_encoder.hpp"

#include <notifier/notification.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace notifier::pg;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string error;
    if (auto env = decode_envelope(in, error); !env && error.empty()) std::abort();
    error.clear();
    auto m = decode_message(in, error);
    if (!m) {
        if (error.empty()) std::abort();
        return 0;
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
                if (notifier::validate(n)) std::abort();
                // `old` only where the server sent an old row, never cut.
                if (n.old && (!c->old_kind || n.old->size() > limit || n.action == "create")) std::abort();
            }
        }
    }
    return 0;
}
