// SPDX-License-Identifier: MIT
#include "broker/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace notifier::redis {

namespace {

bool is_array(const redisReply* r) { return r && r->type == REDIS_REPLY_ARRAY && (r->elements == 0 || r->element); }

// Digits only, the whole of `s`.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || res.ec != std::errc{} || res.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

std::uint64_t to_u64(std::string_view s) {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

}  // namespace

std::string_view reply_string(const redisReply* r) {
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str
               ? std::string_view(r->str, r->len)
               : std::string_view();
}

std::uint64_t reply_number(const redisReply* r) {
    if (!r) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return static_cast<std::uint64_t>(r->integer);
    return to_u64(reply_string(r));
}

std::string_view reply_error(const redisReply* r) {
    return r && r->type == REDIS_REPLY_ERROR && r->str ? std::string_view(r->str, r->len)
                                                       : std::string_view("unexpected reply");
}

std::optional<stream_entry> decode_entry(const redisReply* e) {
    if (!is_array(e) || e->elements != 2) return std::nullopt;
    const auto id = reply_string(e->element[0]);
    const auto* f = e->element[1];
    if (!is_array(f)) return std::nullopt;
    std::string_view c, i, j, n;
    for (std::size_t k = 0; k + 1 < f->elements; k += 2) {
        const auto name = reply_string(f->element[k]);
        const auto value = reply_string(f->element[k + 1]);
        if (name == "c") c = value;
        else if (name == "i") i = value;
        else if (name == "j") j = value;
        else if (name == "n") n = value;
    }
    const auto seq = to_u64(id.substr(0, id.find('-')));
    if (seq == 0 || c.empty() || j.empty()) return std::nullopt;
    return stream_entry{make_publication_from_json(seq, c, i, j), std::string(n)};
}

std::vector<stream_entry> decode_entries(const redisReply* r) {
    std::vector<stream_entry> out;
    if (!is_array(r)) return out;
    for (std::size_t k = 0; k < r->elements; ++k)
        if (auto e = decode_entry(r->element[k])) out.push_back(std::move(*e));
    return out;
}

std::optional<script_head> decode_head(const redisReply* r) {
    if (!is_array(r) || r->elements != 2) return std::nullopt;
    return script_head{std::string(reply_string(r->element[0])), reply_number(r->element[1])};
}

std::optional<snapshot> decode_snapshot(const redisReply* r) {
    if (!is_array(r) || r->elements != 3) return std::nullopt;
    return snapshot{std::string(reply_string(r->element[0])), reply_number(r->element[1]),
                    decode_entries(r->element[2])};
}

std::optional<channel_message> decode_channel_message(std::string_view m) {
    const auto nl = m.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    channel_message out;
    out.epoch = std::string(m.substr(0, nl));
    std::size_t p = nl + 1;
    while (p < m.size()) {
        const auto eol = m.find('\n', p);
        if (eol == std::string_view::npos) return std::nullopt;
        // Four numbers, then the nonce if the writer knew nonces.
        std::string_view line = m.substr(p, eol - p);
        std::uint64_t v[4] = {};
        for (auto& x : v) {
            const auto sp = line.find(' ');
            const auto n = parse_u64(line.substr(0, sp));
            if (!n) return std::nullopt;
            x = *n;
            line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
        }
        p = eol + 1;
        const std::size_t rest = m.size() - p;
        if (v[0] == 0 || v[1] > rest || v[2] > rest - v[1] || v[3] > rest - v[1] - v[2]) return std::nullopt;
        const auto c = m.substr(p, v[1]);
        const auto i = m.substr(p + v[1], v[2]);
        const auto j = m.substr(p + v[1] + v[2], v[3]);
        p += v[1] + v[2] + v[3];
        out.entries.push_back({make_publication_from_json(v[0], c, i, j), std::string(line)});
    }
    return out;
}

subscription_event decode_subscription_event(const redisReply* r) {
    if (!is_array(r) || r->elements < 3) return {};
    const auto kind = reply_string(r->element[0]);
    if (kind == "subscribe") return {subscription_event::kind::subscribed, {}};
    if (kind == "message") return {subscription_event::kind::message, reply_string(r->element[2])};
    return {};
}

}  // namespace notifier::redis
