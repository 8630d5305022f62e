// SPDX-License-Identifier: MIT
// The query of GET /ws and the Authorization header: any input yields an
// upgrade_request within the limits or a 400 with a known code, and every
// error message is safe to put in JSON.
//
// Input: one byte of max_subscriptions, then the target, then after the
// first '\n' the Authorization value.

#include "core/topic.hpp"
#include "core/upgrade_request.hpp"
#include "core/utf8.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t max = data[0];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto nl = rest.find('\n');
    const auto target = rest.substr(0, nl);
    const auto authorization = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);

    namespace core = notifier::core;
    auto r = core::parse_upgrade_request(target, authorization, max);
    if (auto* e = std::get_if<core::upgrade_error>(&r)) {
        if (e->status != 400) std::abort();
        if (e->code != "invalid_query" && e->code != "invalid_name" && e->code != "too_many_subscriptions")
            std::abort();
        if (e->message.empty() || !core::is_valid_utf8(e->message)) std::abort();
        return 0;
    }
    const auto& req = std::get<core::upgrade_request>(r);
    if (req.topics.size() > max) std::abort();
    if (req.implicit_all && !req.topics.empty()) std::abort();
    for (const auto& t : req.topics)
        if (!core::parse_topic(t)) std::abort();
    if (!req.resume.requested && req.resume.since != 0) std::abort();
    return 0;
}
