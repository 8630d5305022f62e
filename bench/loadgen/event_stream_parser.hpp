// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace loadgen {

// One dispatched event of a text/event-stream.
struct stream_event {
    std::string_view type;  // the `event:` field; empty for the default "message"
    std::string_view id;    // the `id:` field of this event; empty without one
    std::string_view data;  // the `data:` lines joined with '\n'
};

// Splits a text/event-stream (HTML Living Standard, "Server-sent events",
// §9.2.6 "Interpreting an event stream") into events, straight out of the
// caller's buffer: type, id and a single data line are views of it; only
// an event of several data lines is joined, into a string reused by every
// such event. Comments (`: ping`) and events without data (a comment
// block) are not dispatched. Lines end with LF or CRLF (a lone CR, which
// the standard also allows, is not recognised: notifierd never sends one).
class event_stream_parser {
public:
    // Dispatches every complete event (ended by an empty line) in
    // [p, p + len) to on_event(const stream_event&), which returns false to
    // stop. Returns the bytes consumed: up to the end of the last event
    // dispatched or skipped. The caller keeps the rest and passes it again,
    // followed by what comes next.
    template <class OnEvent>
    std::size_t parse(const char* p, std::size_t len, OnEvent&& on_event);

    void reset() { joined_.clear(); }

private:
    std::string joined_;
};

template <class OnEvent>
std::size_t event_stream_parser::parse(const char* p, std::size_t len, OnEvent&& on_event) {
    std::size_t consumed = 0;  // start of the event being read
    std::size_t pos = 0;
    stream_event ev;
    const char* data = nullptr;  // the first data line, in place
    std::size_t data_len = 0;
    int data_lines = 0;
    while (pos < len) {
        const char* nl = static_cast<const char*>(std::memchr(p + pos, '\n', len - pos));
        if (nl == nullptr) break;
        std::string_view line(p + pos, std::size_t(nl - (p + pos)));
        pos = std::size_t(nl - p) + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            if (data_lines > 0) {
                ev.data = data_lines == 1 ? std::string_view(data, data_len) : std::string_view(joined_);
                if (!on_event(static_cast<const stream_event&>(ev))) return pos;
            }
            consumed = pos;
            ev = stream_event{};
            data_lines = 0;
            continue;
        }
        if (line[0] == ':') continue;  // a comment
        const std::size_t colon = line.find(':');
        const std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        if (field == "data") {
            if (data_lines == 0) {
                data = value.data();
                data_len = value.size();
            } else {
                if (data_lines == 1) joined_.assign(data, data_len);
                joined_ += '\n';
                joined_.append(value);
            }
            ++data_lines;
        } else if (field == "event") {
            ev.type = value;
        } else if (field == "id") {
            ev.id = value;
        }
    }
    return consumed;
}

}  // namespace loadgen
