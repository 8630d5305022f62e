// SPDX-License-Identifier: MIT
// What a PostgreSQL walsender streams: any bytes decode to a message or an
// error, and text columns always encode to valid notifications.

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
        relation rel{1, "public", "t", 'd', {{"k", 25, true}, {"a", 25, false}, {"b", 25, false}}};
        const watched_table table{"public", "t", "t", {"k"}};
        std::vector<notifier::notification> out;
        row_encoder(256).encode(table, rel, *c, out);
        for (const auto& n : out)
            if (notifier::validate(n)) std::abort();
    }
    return 0;
}
