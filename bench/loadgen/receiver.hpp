// SPDX-License-Identifier: MIT
#pragma once

#include "ws_client.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadgen {

class spread_plan;
struct options;
struct url;

// Totals over the receiving (non-stalled) clients.
struct delivery_totals {
    std::uint64_t delivered = 0;  // notification messages, duplicates included
    std::uint64_t unique = 0;
    std::uint64_t expected = 0;   // sum over clients of what each expects
    std::uint64_t lost = 0;       // sum over clients of max(0, expected - unique)
    std::uint64_t unexpected = 0; // ours, of another forum than the client's
    std::uint64_t client_min = 0; // fewest / most distinct notifications of one client
    std::uint64_t client_max = 0;
    std::uint64_t expected_min = 0; // fewest / most notifications one client expects
    std::uint64_t expected_max = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t seq_errors = 0;
    std::uint64_t unparsed = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t bytes = 0;
    std::uint64_t last_rx_ns = 0;
    int closed = 0;  // closed by the server during the run
    int failed = 0;  // broke the WebSocket/protocol rules as we read them
    std::string first_failure;
    std::map<int, int> close_codes;
};

// Outcome of reading the stalled clients at the end.
struct stalled_totals {
    int total = 0;
    int closed = 0;             // close frame / disconnect packet or EOF arrived
    int close_frames = 0;       // of those, with a WebSocket close frame
    std::uint64_t messages = 0; // notifications still readable from their sockets
    std::map<int, int> close_codes;
};

// Owns the WebSocket clients and the receive loop: one epoll set, one
// shared receive buffer, level-triggered, one read per ready socket per
// wakeup so that no connection can starve the others.
class receiver {
public:
    // first_index: the index, over all receivers, of this one's first
    // receiving client (its forum and subscriptions follow from it). tls:
    // non-null for a wss:// or https:// target.
    receiver(const options& opts, const url& target, const tls_context* tls, latency_histogram& histogram,
             const publish_log& log, const spread_plan& plan, std::size_t first_index = 0);
    // Also records, per publish index, the latency of the first client to get it.
    void record_first_client(latency_histogram& h) { ctx_.first_histogram = &h; }
    // Also records publish → kernel receive time of each delivery.
    void record_arrival(latency_histogram& h) { ctx_.arrival_histogram = &h; }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver();

    // Opens count more clients with bounded handshake concurrency and waits
    // until each is ready (after retries). Stalled clients are taken out of
    // the epoll set once ready and never read again until check_stalled().
    // Returns false (and err) if some client could not get ready.
    bool connect_clients(int count, bool stalled, std::string& err);

    // One epoll_wait() round and the resulting reads.
    void poll(int timeout_ms);

    // True once every open receiving client has every distinct
    // notification it expects out of `published` accepted ones.
    bool caught_up(std::uint64_t published) const;

    // Reads whatever the stalled sockets hold to see whether the server
    // closed them; gives up after max_wait_ns, or earlier when every one is
    // closed or none received anything for a quarter of a second.
    stalled_totals check_stalled(std::uint64_t max_wait_ns);

    delivery_totals totals(std::uint64_t published) const;
    int open_clients() const;
    std::size_t size() const noexcept { return clients_.size(); }
    // What the first client to get ready negotiated; empty over plain TCP.
    const tls_session& negotiated() const noexcept { return negotiated_; }

    // Sends close frames and closes every socket.
    void close_all();

private:
    void on_transition(std::size_t index, ws_client::state before, ws_client::state after);
    std::string path_of(std::size_t index) const;
    unsigned source_address(std::size_t index) const noexcept;

    const options& opts_;
    const url& target_;
    const spread_plan& plan_;
    std::size_t first_index_ = 0;
    std::string path_;
    std::vector<ws_client> clients_;
    receive_context ctx_;
    tls_session negotiated_;
    std::uint64_t batch_ns_ = 0;
    unsigned source_count_ = 0;  // > 0: spread connections over 127.0.0.1..N

    // Connect phase bookkeeping, touched by on_transition().
    bool connecting_ = false;
    int in_flight_ = 0;
    int ready_ = 0;
    std::vector<std::size_t> retry_;
    std::vector<std::size_t> gave_up_;
};

}  // namespace loadgen
