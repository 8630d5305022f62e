// SPDX-License-Identifier: MIT
// POST /publish bodies: any input yields valid notifications or an error,
// every accepted notification serializes to valid JSON, and its data is
// the publisher's bytes, found as they are in the body.

#include "core/publish_request.hpp"

#include <notifier/notification.hpp>
#include <notifier/publication.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto r = notifier::core::parse_publish_request(body);
    if (auto* batch = std::get_if<std::vector<notifier::notification>>(&r)) {
        if (batch->empty()) std::abort();
        for (const auto& n : *batch) {
            if (notifier::validate(n)) std::abort();
            if (n.data && body.find(*n.data) == std::string_view::npos) std::abort();
            if (n.old && body.find(*n.old) == std::string_view::npos) std::abort();
            auto pub = notifier::make_publication(1, n);
            if (!notifier::is_valid_json(pub->json())) std::abort();
        }
    }
    return 0;
}
