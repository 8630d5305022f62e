// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>

namespace loadgen {

// Undoes the chunked transfer coding of an HTTP/1.1 response body (RFC 9112
// section 7.1) in place, read by read: the chunk data of each read moves to
// the front of it, over the chunk framing, so that the body can be parsed
// straight out of the receive buffer. A chunk header cut by a read is kept
// as a few bytes of state, never copied.
class chunked_decoder {
public:
    // Decodes [p, p + len), which follows the bytes of the previous call,
    // and returns how many body bytes are now at p. Stops at the last chunk
    // (size 0; its trailer is not read) and on a malformed frame.
    std::size_t decode(char* p, std::size_t len) noexcept;

    // The last chunk arrived: the body is complete.
    bool finished() const noexcept { return state_ == state::done; }
    // The framing was not chunked coding; nothing more is decoded.
    bool failed() const noexcept { return state_ == state::failed; }
    void reset() noexcept { *this = chunked_decoder(); }

private:
    enum class state : std::uint8_t {
        size,       // hex digits of the chunk size
        extension,  // ";name=value" after the size, skipped
        size_lf,    // CR seen after the size line
        data,       // remaining_ bytes of chunk data
        data_cr,    // the CRLF after the data
        data_lf,
        done,
        failed,
    };
    void end_of_size_line() noexcept;

    state state_ = state::size;
    bool size_digits_ = false;
    std::uint64_t remaining_ = 0;
};

}  // namespace loadgen
