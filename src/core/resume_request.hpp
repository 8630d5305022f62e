// SPDX-License-Identifier: MIT
#pragma once
// Where a reconnecting client left off: `?since=<seq>&epoch=<epoch>` on the
// upgrade (docs/protocol.md, "Resuming").

#include <cstdint>
#include <string>

namespace notifier::core {

struct resume_request {
    bool requested = false;  ///< `since` was given
    std::uint64_t since = 0;  ///< the newest seq the client has
    std::string epoch;        ///< the epoch that seq belongs to; may be empty
};

}  // namespace notifier::core
