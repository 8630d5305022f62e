// SPDX-License-Identifier: MIT
#include "net/gather_write.hpp"

#include <boost/asio/buffer.hpp>

#include <array>
#include <span>
#include <string_view>

namespace notifier::net {

namespace {

constexpr std::size_t max_gather = 128;  // buffers per writev, well under IOV_MAX
constexpr int max_rounds = 8;            // then let the loop's other sessions run

}  // namespace

gather_write_result gather_write(boost::asio::ip::tcp::socket& socket, core::write_queue& queue) {
    namespace asio = boost::asio;
    gather_write_result r;
    std::array<std::string_view, max_gather> views;
    std::array<asio::const_buffer, max_gather> bufs;
    for (int round = 0; round < max_rounds && !queue.empty(); ++round) {
        const std::size_t n = queue.gather(views);
        for (std::size_t i = 0; i < n; ++i) bufs[i] = asio::const_buffer(views[i].data(), views[i].size());
        boost::system::error_code ec;
        const std::size_t written = socket.write_some(std::span<const asio::const_buffer>(bufs.data(), n), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
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
