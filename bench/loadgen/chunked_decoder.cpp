// SPDX-License-Identifier: MIT
#include "chunked_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace loadgen {

namespace {

// Larger than any chunk a server sends a client here; bounds the arithmetic.
constexpr std::uint64_t max_chunk_bytes = 1ull << 40;

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void chunked_decoder::end_of_size_line() noexcept {
    if (!size_digits_) {
        state_ = state::failed;
        return;
    }
    size_digits_ = false;
    state_ = remaining_ == 0 ? state::done : state::data;
}

std::size_t chunked_decoder::decode(char* p, std::size_t len) noexcept {
    std::size_t in = 0, out = 0;
    while (in < len) {
        switch (state_) {
            case state::data: {
                const std::size_t n = std::size_t(std::min<std::uint64_t>(remaining_, len - in));
                if (out != in) std::memmove(p + out, p + in, n);
                out += n;
                in += n;
                remaining_ -= n;
                if (remaining_ == 0) state_ = state::data_cr;
                break;
            }
            case state::data_cr: {
                const char c = p[in++];
                if (c == '\r') state_ = state::data_lf;
                else if (c == '\n') state_ = state::size;  // a bare LF, tolerated
                else state_ = state::failed;
                break;
            }
            case state::data_lf:
                state_ = p[in++] == '\n' ? state::size : state::failed;
                break;
            case state::size: {
                const char c = p[in++];
                const int v = hex_value(c);
                if (v >= 0) {
                    remaining_ = remaining_ * 16 + std::uint64_t(v);
                    size_digits_ = true;
                    if (remaining_ > max_chunk_bytes) state_ = state::failed;
                } else if (c == ';' || c == ' ' || c == '\t') {
                    state_ = size_digits_ ? state::extension : state::failed;
                } else if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == '\n') {
                    end_of_size_line();
                } else {
                    state_ = state::failed;
                }
                break;
            }
            case state::extension: {
                const char c = p[in++];
                if (c == '\r') state_ = state::size_lf;
                else if (c == '\n') end_of_size_line();
                break;
            }
            case state::size_lf:
                if (p[in++] == '\n') end_of_size_line();
                else state_ = state::failed;
                break;
            case state::done:
            case state::failed:
                return out;
        }
    }
    return out;
}

}  // namespace loadgen
