// SPDX-License-Identifier: MIT
// The checks on a request head: any input is accepted or refused with one of
// the documented statuses and codes, refusal messages are valid UTF-8 (they
// go into a JSON body), and an accepted target is a path starting with '/'.
//
// Input: one byte of flags (bit 0: Content-Length present, bit 1: HTTP/1.0),
// then newline-separated fields: Transfer-Encoding values up to an empty
// line, the request target, then Host values.

#include "core/request_head.hpp"
#include "core/utf8.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace core = notifier::core;

namespace {

void check(const std::optional<core::head_refusal>& r) {
    if (!r) return;
    if (r->status == 400 && r->code == "bad_request") {
    } else if (r->status == 501 && r->code == "not_implemented") {
    } else {
        std::abort();
    }
    if (r->message.empty() || !core::is_valid_utf8(r->message)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool content_length = data[0] & 1;
    const unsigned version = (data[0] & 2) ? 10 : 11;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::string_view> lines;
    while (true) {
        const auto nl = rest.find('\n');
        lines.push_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    std::vector<std::string_view> te, host;
    std::size_t i = 0;
    for (; i < lines.size() && !lines[i].empty(); ++i) te.push_back(lines[i]);
    ++i;
    const std::string_view target = i < lines.size() ? lines[i] : std::string_view{};
    for (++i; i < lines.size(); ++i) host.push_back(lines[i]);

    check(core::check_body_framing(te, content_length, version));
    check(core::check_host(host, version));
    if (const auto t = core::parse_request_target(target)) {
        if (t->path.empty() || t->path.front() != '/') std::abort();
        if (t->origin_form.empty() || t->origin_form.front() != '/') std::abort();
        if (core::parse_request_target(t->origin_form) == std::nullopt) std::abort();
    }
    return 0;
}
