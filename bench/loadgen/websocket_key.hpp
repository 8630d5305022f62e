// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace loadgen {

// Sec-WebSocket-Key generation and the matching Sec-WebSocket-Accept value
// (RFC 6455 section 4.2.2: base64(SHA-1(key + GUID))).
class websocket_key {
public:
    websocket_key();  // random 16-byte nonce, base64-encoded

    const std::string& key() const noexcept { return key_; }
    const std::string& expected_accept() const noexcept { return accept_; }

private:
    std::string key_;
    std::string accept_;
};

}  // namespace loadgen
