// SPDX-License-Identifier: MIT
#pragma once
// What a session's flush does first, whatever its transport: hand what its
// write queue holds to the kernel in gather-writes (writev), a few rounds
// while the kernel keeps taking data, without blocking.

#include "core/write_queue.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace notifier::net {

struct gather_write_result {
    bool failed = false;  ///< the socket failed: the session ends
    bool wrote = false;   ///< some bytes left
};

gather_write_result gather_write(boost::asio::ip::tcp::socket& socket, core::write_queue& queue);

}  // namespace notifier::net
