// SPDX-License-Identifier: MIT
#pragma once
// What a session's flush does first, whatever its transport: hand what its
// write queue holds to the kernel in gather-writes (writev; over TLS one
// coalesced record per write), a few rounds while the kernel keeps taking
// data, without blocking.

#include "core/write_queue.hpp"

namespace notifier::net {

class connection;

struct gather_write_result {
    bool failed = false;  ///< the connection failed: the session ends
    bool wrote = false;   ///< some bytes left
};

gather_write_result gather_write(connection& conn, core::write_queue& queue);

}  // namespace notifier::net
