// SPDX-License-Identifier: MIT
#pragma once
// One open connection counted against max_connections, the per-IP limit
// and its shard's count (the acceptor's choice of shard). Acquired on the
// acceptor's thread, moved from the HTTP session to the WebSocket session,
// released on its shard's thread when the connection ends.

#include <notifier/hub.hpp>

#include <string>

namespace notifier {

class shard;

class connection_slot {
public:
    connection_slot(hub::impl& h, std::string ip, bool per_ip) : hub_(h), ip_(std::move(ip)), per_ip_(per_ip) {}
    ~connection_slot();
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    /// The shard the connection lives on, counted until release.
    void assign(shard& s) noexcept { shard_ = &s; }

private:
    hub::impl& hub_;
    shard* shard_ = nullptr;
    std::string ip_;
    bool per_ip_;
};

}  // namespace notifier
