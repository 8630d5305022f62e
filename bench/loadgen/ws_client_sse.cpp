// SPDX-License-Identifier: MIT
// The Server-Sent Events side of ws_client (docs/protocol.md, "Server-Sent
// Events `/sse`"): a chunked text/event-stream whose events are counted as
// the WebSocket path counts its frames.
#include "ws_client.hpp"

#include "message_scan.hpp"

#include <cstring>
#include <string>

namespace loadgen {

namespace {

constexpr std::size_t max_event_bytes = 64u << 20;

// The code of an `event: close`'s data, {"code":1001,"reason":…}; 1005 without one.
int close_code_of(std::string_view data) noexcept {
    const char* k = static_cast<const char*>(memmem(data.data(), data.size(), "\"code\":", 7));
    if (k == nullptr) return 1005;
    std::uint64_t code = 0;
    bool ok = false;
    detail::parse_uint(k + 7, data.data() + data.size(), code, ok);
    return ok && code < 65536 ? int(code) : 1005;
}

// A notification's id is <epoch>:<seq>, the cursor a browser resumes from:
// it must name the seq of the notification it carries.
bool id_names_seq(std::string_view id, std::uint64_t seq) noexcept {
    const std::size_t colon = id.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::uint64_t v = 0;
    bool ok = false;
    const char* end = detail::parse_uint(id.data() + colon + 1, id.data() + id.size(), v, ok);
    return ok && end == id.data() + id.size() && v == seq;
}

}  // namespace

// p holds leftover_ (before the response head: raw bytes; after it: event
// text already out of its chunk framing) followed by what this read got,
// from p + have to p + len, still in transfer coding.
void ws_client::on_stream_read(char* p, std::size_t have, std::size_t len, receive_context& ctx) {
    std::size_t text = 0;  // where the event text starts
    std::size_t raw = have;
    if (state_ == state::handshaking) {
        const std::size_t head = parse_handshake(p, len, ctx);
        if (state_ == state::handshaking || fd_ < 0) {
            if (fd_ >= 0) leftover_.assign(p, len);
            return;
        }
        text = raw = head;
    }
    std::size_t end = len;
    if (chunked_) {
        end = raw + chunks_.decode(p + raw, len - raw);
        if (chunks_.failed()) {
            fail("malformed chunked body");
            return;
        }
    }
    const std::size_t used =
        events_.parse(p + text, end - text, [&](const stream_event& e) { return on_stream_event(e, ctx); });
    if (fd_ < 0) return;
    if (chunks_.finished()) {  // the body ended without a close event
        server_closed(1006);
        return;
    }
    if (end - text - used > max_event_bytes) {
        fail("event larger than 64 MiB");
        return;
    }
    leftover_.assign(p + text + used, end - text - used);
}

bool ws_client::on_stream_event(const stream_event& e, receive_context& ctx) {
    const char* d = e.data.data();
    const std::size_t n = e.data.size();
    if (e.type.empty() || e.type == "message") {
        const scanned_fields f = scan_message(d, n);
        if (!stalled_ && f.has_seq && !id_names_seq(e.id, f.seq)) ++stats_.seq_errors;
        record_delivery(f, ctx);
        return true;
    }
    if (e.type == "welcome" || e.type == "resync") {
        const scanned_fields f = scan_message(d, n);
        last_seq_ = f.seq;
        seq_known_ = f.has_seq;
        if (e.type == "resync") ++stats_.resyncs;
        else if (state_ == state::opening) become_ready();
        return true;
    }
    if (e.type == "close") {
        saw_close_frame_ = true;
        server_closed(close_code_of(e.data));
        return false;
    }
    return true;  // an event type of a later protocol version
}

}  // namespace loadgen
