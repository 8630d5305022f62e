// SPDX-License-Identifier: MIT
#pragma once

#include "tls_stream.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace loadgen {

class publish_log;
class spread_plan;
class tls_context;
struct url;

// One keep-alive HTTP/1.1 connection posting notifications, with at most one
// request in flight (so its publishes reach the server strictly in order);
// over TLS for an https:// target.
class publish_connection {
public:
    enum class outcome {
        pending,   // nothing complete yet
        accepted,  // response with the expected status
        rejected,  // any other status
        broken,    // connection lost; the request in flight (if any) failed
    };

    // tls: non-null for an https:// target; the handshake must end within
    // handshake_timeout_s.
    publish_connection(int id, const url& target, int expect_status, const tls_context* tls = nullptr,
                       double handshake_timeout_s = 10);
    publish_connection(publish_connection&&) noexcept = default;
    publish_connection& operator=(publish_connection&&) noexcept = default;
    ~publish_connection();

    bool connect(std::string& err);
    void close_socket() noexcept;

    int fd() const noexcept { return fd_; }
    int id() const noexcept { return id_; }
    bool in_flight() const noexcept { return in_flight_; }
    bool wants_write() const noexcept { return !out_.empty(); }
    // The server asked to close after the last response (Connection: close).
    bool must_reconnect() const noexcept { return must_reconnect_; }

    // Posts notification n (its body from the plan), stamped with the
    // current CLOCK_MONOTONIC time. Returns false when the socket is broken.
    bool send(std::uint64_t n, publish_log& log, const spread_plan& plan);
    // The publish index of the request in flight (or of the last one).
    std::uint64_t last_n() const noexcept { return n_; }
    bool flush();
    outcome on_readable();

    // The TLS connection, nullptr for a plain one or while closed.
    const tls_stream* tls() const noexcept { return tls_.get(); }

    int last_status() const noexcept { return last_status_; }
    const std::string& last_body() const noexcept { return last_body_; }

private:
    enum class parse_result { incomplete, complete, malformed };
    parse_result parse_response(bool at_eof, std::size_t& consumed);
    // Append what the socket holds to in_; false on an error.
    bool read_plain(bool& eof);
    bool read_tls(bool& eof);

    int id_;
    int fd_ = -1;
    int expect_status_;
    int last_status_ = 0;
    std::uint64_t n_ = 0;
    bool in_flight_ = false;
    bool must_reconnect_ = false;
    const url* target_;
    const tls_context* tls_context_;
    double handshake_timeout_s_;
    std::unique_ptr<tls_stream> tls_;
    std::string prefix_;  // request line and fixed headers
    std::string out_;
    std::string in_;
    std::string last_body_;
};

}  // namespace loadgen
