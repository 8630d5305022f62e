// SPDX-License-Identifier: MIT
#include "net/gather_write.hpp"

#include "net/connection.hpp"

#include <array>
#include <span>
#include <string_view>

namespace notifier::net {

namespace {

// Then let the loop's other sessions run. A TLS write carries one record
// (16 KiB at most) where a writev carries up to 128 buffers.
constexpr int max_rounds = 8;
constexpr int max_tls_rounds = 32;

}  // namespace

gather_write_result gather_write(connection& conn, core::write_queue& queue) {
    gather_write_result r;
    std::array<std::string_view, connection::max_buffers> views;
    const int rounds = conn.is_tls() && !conn.kernel_tls_send() ? max_tls_rounds : max_rounds;
    for (int round = 0; round < rounds && !queue.empty(); ++round) {
        const std::size_t n = queue.gather(views);
        boost::system::error_code ec;
        const std::size_t written = conn.write_some(std::span<const std::string_view>(views.data(), n), ec);
        if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
            queue.pin_front(conn.committed_bytes());
            break;
        }
        if (ec) {
            r.failed = true;
            break;
        }
        queue.consume(written);
        if (written > 0) r.wrote = true;
    }
    return r;
}

}  // namespace notifier::net
