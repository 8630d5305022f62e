// SPDX-License-Identifier: MIT
#pragma once

#include "chunked_decoder.hpp"
#include "event_stream_parser.hpp"
#include "options.hpp"
#include "tls_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loadgen {

class latency_histogram;
class publish_log;
class spread_plan;
class tls_context;
struct url;
struct scanned_fields;

// State shared by all clients of the receive loop; passed to every event so
// the per-client object stays small.
struct receive_context {
    int epfd = -1;
    protocol_kind protocol = protocol_kind::notifier;
    // Set for a wss:// or https:// target: every client speaks TLS.
    const tls_context* tls = nullptr;
    int publishers = 1;
    std::vector<char> buffer;  // the one receive buffer, reused by every read
    std::uint64_t now_ns = 0;  // taken once per read, after recv() returned
    // Kernel receive time of the newest segment of that read (SO_TIMESTAMPNS,
    // on CLOCK_MONOTONIC via realtime_offset), 0 if the kernel gave none.
    std::uint64_t arrival_ns = 0;
    std::int64_t realtime_offset = 0;
    latency_histogram* histogram = nullptr;
    // Publish → arrival in the client's socket: the server's part of the
    // latency, without the time this process took to read.
    latency_histogram* arrival_histogram = nullptr;
    // Latency of the first client to receive each publish index: the part
    // of the latency spent before fan-out starts (publish, server loop);
    // the rest of "histogram" is the spread of the fan-out and of reading.
    latency_histogram* first_histogram = nullptr;
    std::vector<bool> first_seen;
    const publish_log* log = nullptr;
    // Which publishes each client expects (by its forum).
    const spread_plan* plan = nullptr;
    // The implicit "*": a client sees every seq, so seq must grow by one.
    // With chosen subscriptions it sees some of them: seq must only grow.
    bool seq_consecutive = true;
};

// What one client saw. "messages" counts notifications (including
// duplicates); "unique" counts distinct publish indexes.
struct client_stats {
    std::uint64_t messages = 0;
    std::uint64_t unique = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t seq_errors = 0;
    std::uint64_t unparsed = 0;  // deliveries without "t"/"n" (not ours)
    std::uint64_t unexpected = 0;  // ours, but of another forum (--spread): not counted as unique
    std::uint64_t resyncs = 0;
    std::uint64_t bytes = 0;
    std::uint64_t last_rx_ns = 0;
};

// One client connection: TCP connect, HTTP upgrade, the protocol's opening
// exchange, then frame parsing straight out of the shared receive buffer.
// Only the tail of a partial frame (and fragmented messages) is copied into
// the client. With --protocol sse the same client reads a Server-Sent
// Events stream instead (ws_client_sse.cpp): GET, a 200 response, the
// chunked body decoded and its events parsed in the receive buffer too.
// Over TLS (receive_context::tls) the same bytes go through a tls_stream;
// a plain client pays one null check for it per read and write.
class ws_client {
public:
    enum class state : std::uint8_t {
        pending,      // not started yet
        connecting,   // TCP connect in progress
        tls_handshaking,  // TLS handshake in progress (wss://, https://)
        handshaking,  // request sent, waiting for the response head (101, or 200 for a stream)
        opening,      // waiting for welcome / Engine.IO open / Socket.IO connect
        ready,        // receiving notifications
        closed,       // server closed (close frame or event, Socket.IO disconnect, EOF, reset)
        failed,       // could not get to ready, or broke the protocol
    };

    // id is the epoll user data the receive loop registers this client with;
    // forum: the publishes it expects (spread_plan), -1 for all of them.
    ws_client(int id, bool stalled, int publishers, int forum = -1);
    static const char* state_name(state s) noexcept;
    ws_client(ws_client&&) noexcept = default;
    ws_client& operator=(ws_client&&) noexcept = default;
    ~ws_client();

    // Starts a connection attempt; false (and error()) on immediate failure.
    bool start(const url& target, const std::string& path, receive_context& ctx, int rcvbuf,
               unsigned source_v4);
    void on_event(std::uint32_t events, receive_context& ctx);

    // Sends a close frame (best effort; none on a stream) and closes the socket.
    void shutdown();
    // Closes the socket and forgets any partial state (used before a retry).
    void reset();
    // Gives up on this connection (handshake timeout); state becomes failed.
    void abort(std::string why) { fail(std::move(why)); }

    state current_state() const noexcept { return state_; }
    bool stalled() const noexcept { return stalled_; }
    int forum() const noexcept { return forum_; }
    int fd() const noexcept { return fd_; }
    int attempts() const noexcept { return attempts_; }
    std::uint64_t started_ns() const noexcept { return started_ns_; }
    const std::string& error() const noexcept { return error_; }
    const client_stats& stats() const noexcept { return stats_; }
    // The TLS connection, nullptr for a plain one or once closed.
    const tls_stream* tls() const noexcept { return tls_.get(); }
    // Close code from the server: the close frame's code (a stream's
    // `event: close` code), 1005 for a close frame without one, 1006 for
    // EOF/reset without a close frame (or a stream's body ending without a
    // close event), 4100 for a Socket.IO/Engine.IO disconnect packet; 0 while open.
    int close_code() const noexcept { return close_code_; }
    bool saw_close_frame() const noexcept { return saw_close_frame_; }

private:
    void on_readable(receive_context& ctx);
    void on_tls_readable(receive_context& ctx);
    void on_writable(receive_context& ctx);
    void continue_tls_handshake(receive_context& ctx);
    // p holds leftover_ (have bytes) and what this read got, up to len.
    // Defined (and inlined) in ws_client.cpp, its only user.
    inline void on_bytes(char* p, std::size_t have, std::size_t len, receive_context& ctx);
    // send_some()'s contract, over TLS when the client speaks it.
    long send_bytes(const char* p, std::size_t n);
    void watch_writable(bool on, receive_context& ctx);
    std::size_t parse_handshake(const char* p, std::size_t len, receive_context& ctx);
    std::size_t parse_frames(char* p, std::size_t len, receive_context& ctx);
    void on_frame(bool fin, int opcode, const char* p, std::size_t n, receive_context& ctx);
    void on_message(const char* p, std::size_t n, receive_context& ctx);
    void on_notifier_message(const char* p, std::size_t n, receive_context& ctx);
    void on_socketio_message(const char* p, std::size_t n, receive_context& ctx);
    void record_delivery(const scanned_fields& f, receive_context& ctx);
    // Server-Sent Events (ws_client_sse.cpp).
    void on_stream_read(char* p, std::size_t have, std::size_t len, receive_context& ctx);
    bool on_stream_event(const stream_event& e, receive_context& ctx);
    void send_frame(int opcode, const char* p, std::size_t n, receive_context& ctx);
    void queue_bytes(const char* p, std::size_t n, receive_context& ctx);
    void become_ready() noexcept { state_ = state::ready; }
    void fail(std::string why);
    void server_closed(int code);
    void close_fd() noexcept;

    int fd_ = -1;
    int id_ = 0;
    state state_ = state::pending;
    bool stalled_ = false;
    bool want_write_ = false;
    bool saw_close_frame_ = false;
    bool seq_known_ = false;
    bool stream_ = false;   // --protocol sse: an event stream, not WebSocket frames
    bool chunked_ = false;  // the stream's body is in chunked coding
    std::uint8_t frag_opcode_ = 0;  // nonzero while a fragmented message is open
    int publishers_ = 1;
    int forum_ = -1;
    int attempts_ = 0;
    int close_code_ = 0;
    std::uint64_t started_ns_ = 0;
    std::uint64_t last_seq_ = 0;
    std::uint64_t max_n_ = 0;
    client_stats stats_;
    std::string leftover_;  // unparsed tail of the last read
    std::string fragment_;  // payload of an unfinished fragmented message
    std::string out_;       // bytes the socket did not take yet
    std::string accept_;    // expected Sec-WebSocket-Accept during the handshake
    std::string error_;
    std::unique_ptr<tls_stream> tls_;  // set while a TLS connection is open
    chunked_decoder chunks_;      // a stream's body: transfer coding ...
    event_stream_parser events_;  // ... and events
    // Allocated on the first notification: idle connections stay small.
    std::unique_ptr<std::uint64_t[]> seen_;       // ring bitmap of recent n
    std::unique_ptr<std::uint64_t[]> last_n_of_;  // last n per publisher connection
};

}  // namespace loadgen
