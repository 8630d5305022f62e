// SPDX-License-Identifier: MIT
// What the broker reads from Redis: the bytes go through hiredis' reader,
// as they would off the socket, and every reply tree it builds (nested,
// nil, error, truncated) goes through every decoder; the bytes themselves
// are also read as a channel message. Decoded publications must keep what
// they claim: a seq, and for stream entries a collection and JSON.

#include "broker/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(const notifier::redis::stream_entry& e) {
    if (!e.pub || e.pub->seq == 0 || e.pub->header_size > e.pub->frame.size()) std::abort();
}

void decode_all(const redisReply* r) {
    using namespace notifier::redis;
    (void)reply_string(r);
    (void)reply_number(r);
    (void)reply_error(r);
    if (auto e = decode_entry(r)) {
        check(*e);
        if (e->pub->collection.empty() || e->pub->frame.size() == e->pub->header_size) std::abort();
    }
    for (const auto& e : decode_entries(r)) check(e);
    (void)decode_head(r);
    if (auto s = decode_snapshot(r))
        for (const auto& e : s->entries) check(e);
    const auto ev = decode_subscription_event(r);
    if (ev.what == subscription_event::kind::message)
        if (auto m = decode_channel_message(ev.payload))
            for (const auto& e : m->entries) check(e);
    // Nested shapes too: an entry inside a snapshot, a message inside an array.
    if (r && r->type == REDIS_REPLY_ARRAY && r->element)
        for (std::size_t k = 0; k < r->elements; ++k) decode_all(r->element[k]);
}

// hiredis allocates an array's element pointers as soon as it reads the
// count: `*999999999` alone asks for gigabytes. Redis never sends that to
// the broker, so such inputs are left out instead of ending the run as
// out-of-memory.
bool declares_huge_array(std::string_view in) {
    for (std::size_t p = in.find('*'); p != std::string_view::npos; p = in.find('*', p + 1)) {
        std::size_t n = 0, k = p + 1;
        while (k < in.size() && in[k] >= '0' && in[k] <= '9' && n <= 4096) n = n * 10 + (in[k++] - '0');
        if (n > 4096) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto m = notifier::redis::decode_channel_message(in))
        for (const auto& e : m->entries) check(e);

    if (declares_huge_array(in)) return 0;
    redisReader* reader = redisReaderCreate();
    if (!reader) return 0;
    redisReaderFeed(reader, in.data(), in.size());
    for (int replies = 0; replies < 64; ++replies) {
        void* r = nullptr;
        if (redisReaderGetReply(reader, &r) != REDIS_OK || !r) break;
        decode_all(static_cast<redisReply*>(r));
        freeReplyObject(r);
    }
    redisReaderFree(reader);
    return 0;
}
