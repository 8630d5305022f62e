// SPDX-License-Identifier: MIT
#include "ws_client.hpp"

#include "clock.hpp"
#include "latency_histogram.hpp"
#include "message_scan.hpp"
#include "publish_log.hpp"
#include "socket_util.hpp"
#include "spread_plan.hpp"
#include "tls_context.hpp"
#include "url.hpp"
#include "websocket_key.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace loadgen {

namespace {

constexpr std::size_t min_free_space = 64 * 1024;
constexpr std::uint64_t max_message_bytes = 64ull << 20;
constexpr std::size_t max_handshake_bytes = 16 * 1024;
// Duplicate detection window, in publish indexes, per client (1 KiB).
constexpr std::uint64_t seen_window = 8192;
constexpr std::size_t seen_words = seen_window / 64;

// Masking keys only have to be unpredictable to intermediaries, which a
// benchmark on loopback does not have; a fast PRNG is enough.
std::uint32_t next_mask() noexcept {
    static thread_local std::uint64_t s = now_ns() | 1;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return std::uint32_t(s);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// The kernel's receive time (recv_stamped) on CLOCK_MONOTONIC, 0 for none.
std::uint64_t arrival_of(std::int64_t realtime_ns, const receive_context& ctx) noexcept {
    const std::int64_t mono = realtime_ns - ctx.realtime_offset;
    return realtime_ns != 0 && mono > 0 ? std::uint64_t(mono) : 0;
}

std::string_view trim(std::string_view v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return v;
}

}  // namespace

ws_client::ws_client(int id, bool stalled, int publishers, int forum)
    : id_(id), stalled_(stalled), publishers_(publishers), forum_(forum) {}

ws_client::~ws_client() { close_fd(); }

const char* ws_client::state_name(state s) noexcept {
    switch (s) {
        case state::pending: return "pending";
        case state::connecting: return "connecting";
        case state::tls_handshaking: return "in the TLS handshake";
        case state::handshaking: return "waiting for the response head";
        case state::opening: return "waiting for the protocol's opening frame";
        case state::ready: return "ready";
        case state::closed: return "closed";
        case state::failed: return "failed";
    }
    return "?";
}

void ws_client::close_fd() noexcept {
    if (fd_ >= 0) {
        if (tls_) {
            stats_.bytes += tls_->take_socket_bytes();
            tls_.reset();  // before the socket it writes to
        }
        ::close(fd_);  // also removes it from the epoll set
        fd_ = -1;
    }
}

void ws_client::reset() {
    close_fd();
    state_ = state::pending;
    want_write_ = false;
    saw_close_frame_ = false;
    seq_known_ = false;
    chunked_ = false;
    chunks_.reset();
    events_.reset();
    frag_opcode_ = 0;
    close_code_ = 0;
    last_seq_ = 0;
    leftover_.clear();
    fragment_.clear();
    out_.clear();
    error_.clear();
}

bool ws_client::start(const url& target, const std::string& path, receive_context& ctx, int rcvbuf,
                      unsigned source_v4) {
    reset();
    ++attempts_;
    started_ns_ = now_ns();
    stream_ = ctx.protocol == protocol_kind::sse;
    out_.reserve(256);
    out_ += "GET ";
    out_ += path;
    out_ += " HTTP/1.1\r\nHost: ";
    out_ += target.host_header;
    if (stream_) {
        out_ += "\r\nAccept: text/event-stream";
    } else {
        websocket_key key;
        accept_ = key.expected_accept();
        out_ += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
        out_ += key.key();
        out_ += "\r\nSec-WebSocket-Version: 13";
    }
    out_ += "\r\nUser-Agent: notifier-loadgen\r\n\r\n";

    fd_ = start_connect(target, rcvbuf, source_v4);
    if (fd_ < 0) {
        fail(std::string("connect: ") + std::strerror(errno));
        return false;
    }
    if (ctx.tls) {
        std::string err;
        tls_ = tls_stream::open(*ctx.tls, fd_, target.host, err);
        if (!tls_) {
            fail(std::move(err));
            return false;
        }
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = std::uint64_t(id_);
    if (epoll_ctl(ctx.epfd, EPOLL_CTL_ADD, fd_, &ev) != 0) {
        fail(std::string("epoll_ctl: ") + std::strerror(errno));
        return false;
    }
    want_write_ = true;
    state_ = state::connecting;
    return true;
}

void ws_client::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    state_ = state::failed;
    close_fd();
}

void ws_client::server_closed(int code) {
    if (state_ < state::ready && error_.empty())
        error_ = "closed by the server before the client was ready (code " + std::to_string(code) + ")";
    if (close_code_ == 0) close_code_ = code;
    state_ = state::closed;
    close_fd();
}

void ws_client::shutdown() {
    if (fd_ < 0) return;
    // Over TLS a frame may follow only whole records: not after a write
    // that is still waiting to be retried.
    if (!stream_ && (state_ == state::ready || state_ == state::opening) && (!tls_ || out_.empty())) {
        // Masked close frame, code 1000. The server may already be gone.
        unsigned char frame[8] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
        std::uint32_t mask = next_mask();
        std::memcpy(frame + 2, &mask, 4);
        frame[6] ^= frame[2];
        frame[7] ^= frame[3];
        send_bytes(reinterpret_cast<const char*>(frame), sizeof frame);
    }
    if (tls_) tls_->close_notify();
    close_fd();
}

void ws_client::on_event(std::uint32_t events, receive_context& ctx) {
    if (fd_ < 0) return;
    if (state_ == state::connecting || (events & EPOLLOUT)) {
        on_writable(ctx);
        if (fd_ < 0) return;
    }
    // A TLS read may have waited for EPOLLOUT (OpenSSL had to send first).
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || tls_) on_readable(ctx);
}

void ws_client::watch_writable(bool on, receive_context& ctx) {
    if (on == want_write_) return;
    epoll_event ev{};
    ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.u64 = std::uint64_t(id_);
    epoll_ctl(ctx.epfd, EPOLL_CTL_MOD, fd_, &ev);
    want_write_ = on;
}

long ws_client::send_bytes(const char* p, std::size_t n) {
    return tls_ ? tls_->write_some(p, n) : send_some(fd_, p, n);
}

void ws_client::continue_tls_handshake(receive_context& ctx) {
    switch (tls_->handshake()) {
        case tls_stream::status::ok:
            state_ = state::handshaking;
            on_writable(ctx);  // the request, queued by start()
            return;
        case tls_stream::status::want_read:
            watch_writable(false, ctx);
            return;
        case tls_stream::status::want_write:
            watch_writable(true, ctx);
            return;
        case tls_stream::status::closed:
        case tls_stream::status::error:
            fail("TLS handshake: " + tls_->error());
            return;
    }
}

void ws_client::on_writable(receive_context& ctx) {
    if (state_ == state::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(std::string("connect: ") + std::strerror(err));
            return;
        }
        state_ = tls_ ? state::tls_handshaking : state::handshaking;
    }
    if (state_ == state::tls_handshaking) {
        continue_tls_handshake(ctx);
        return;
    }
    if (!out_.empty()) {
        long w = send_bytes(out_.data(), out_.size());
        if (w < 0) {
            if (state_ >= state::ready) server_closed(1006);
            else if (tls_) fail("TLS: " + tls_->error());
            else fail(std::string("send: ") + std::strerror(errno));
            return;
        }
        out_.erase(0, std::size_t(w));
    }
    watch_writable(!out_.empty(), ctx);
}

void ws_client::queue_bytes(const char* p, std::size_t n, receive_context& ctx) {
    if (out_.empty()) {
        long w = send_bytes(p, n);
        if (w < 0) {
            server_closed(1006);
            return;
        }
        p += w;
        n -= std::size_t(w);
        if (n == 0) return;
    }
    out_.append(p, n);
    watch_writable(true, ctx);
}

void ws_client::send_frame(int opcode, const char* p, std::size_t n, receive_context& ctx) {
    // Client frames must be masked (RFC 6455 section 5.3).
    std::string frame;
    frame.reserve(n + 14);
    frame.push_back(char(0x80 | opcode));
    if (n < 126) {
        frame.push_back(char(0x80 | n));
    } else if (n <= 0xffff) {
        frame.push_back(char(0x80 | 126));
        frame.push_back(char(n >> 8));
        frame.push_back(char(n & 0xff));
    } else {
        frame.push_back(char(0x80 | 127));
        for (int i = 7; i >= 0; --i) frame.push_back(char((std::uint64_t(n) >> (i * 8)) & 0xff));
    }
    std::uint32_t mask = next_mask();
    char key[4];
    std::memcpy(key, &mask, 4);
    frame.append(key, 4);
    for (std::size_t i = 0; i < n; ++i) frame.push_back(char(p[i] ^ key[i & 3]));
    queue_bytes(frame.data(), frame.size(), ctx);
}

// Inlined into both readers, so that the plain one costs what it did before
// it had a TLS sibling.
[[gnu::always_inline]] inline void ws_client::on_bytes(char* p, std::size_t have, std::size_t len,
                                                       receive_context& ctx) {
    if (stream_) {
        on_stream_read(p, have, len, ctx);
        return;
    }
    std::size_t used = 0;
    if (state_ == state::handshaking) {
        used = parse_handshake(p, len, ctx);
        if (state_ == state::handshaking || fd_ < 0) {
            if (fd_ >= 0) leftover_.assign(p, len);
            return;
        }
    }
    used += parse_frames(p + used, len - used, ctx);
    if (fd_ < 0) return;
    leftover_.assign(p + used, len - used);
}

void ws_client::on_readable(receive_context& ctx) {
    if (tls_) {
        on_tls_readable(ctx);
        return;
    }
    auto& buf = ctx.buffer;
    const std::size_t have = leftover_.size();
    if (buf.size() < have + min_free_space) buf.resize(have + buf.size());
    if (have) std::memcpy(buf.data(), leftover_.data(), have);

    std::int64_t stamp = 0;
    const long r = recv_stamped(fd_, buf.data() + have, buf.size() - have, stamp);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (state_ < state::ready) fail(std::string("recv: ") + std::strerror(errno));
        else server_closed(1006);
        return;
    }
    if (r == 0) {
        if (state_ < state::ready) fail("connection closed by the server before the client was ready");
        else server_closed(1006);
        return;
    }
    ctx.now_ns = now_ns();
    // TCP reports the newest segment the read consumed: for older messages
    // in the same read this overstates, never understates.
    ctx.arrival_ns = arrival_of(stamp, ctx);
    stats_.bytes += std::uint64_t(r);
    on_bytes(buf.data(), have, have + std::size_t(r), ctx);
}

// Unlike a plain read, one call reads until OpenSSL says want_read: the
// records it read ahead are out of epoll's sight. A full buffer is taken
// apart before the next fill.
void ws_client::on_tls_readable(receive_context& ctx) {
    if (state_ == state::tls_handshaking) {
        continue_tls_handshake(ctx);
        if (state_ == state::tls_handshaking || fd_ < 0) return;
    }
    auto& buf = ctx.buffer;
    ctx.arrival_ns = 0;
    for (;;) {
        const std::size_t have = leftover_.size();
        if (buf.size() < have + min_free_space) buf.resize(have + buf.size());
        if (have) std::memcpy(buf.data(), leftover_.data(), have);
        std::size_t len = have;
        tls_stream::status st;
        do {
            std::size_t got = 0;
            st = tls_->read(buf.data() + len, buf.size() - len, got);
            len += got;
        } while (st == tls_stream::status::ok && len < buf.size());
        stats_.bytes += tls_->take_socket_bytes();
        if (len > have) {
            ctx.now_ns = now_ns();
            // Records read ahead by an earlier fill keep that fill's time.
            if (const std::int64_t stamp = tls_->take_receive_time()) ctx.arrival_ns = arrival_of(stamp, ctx);
            on_bytes(buf.data(), have, len, ctx);
            if (fd_ < 0) return;
        }
        switch (st) {
            case tls_stream::status::ok:  // the buffer is full; OpenSSL may hold more
                continue;
            case tls_stream::status::want_read:
                return;
            case tls_stream::status::want_write:  // OpenSSL must send before it reads on
                watch_writable(true, ctx);
                return;
            case tls_stream::status::closed:
            case tls_stream::status::error:
                if (state_ < state::ready) fail("TLS: " + tls_->error() + " before the client was ready");
                else server_closed(1006);
                return;
        }
    }
}

std::size_t ws_client::parse_handshake(const char* p, std::size_t len, receive_context& ctx) {
    const char* end = static_cast<const char*>(memmem(p, len, "\r\n\r\n", 4));
    if (end == nullptr) {
        if (len > max_handshake_bytes) fail("handshake response too large");
        return 0;
    }
    std::string_view head(p, std::size_t(end - p) + 2);
    std::size_t eol = head.find("\r\n");
    std::string_view status = head.substr(0, eol);
    if (status.size() < 12 || status.substr(0, 5) != "HTTP/" || status.substr(9, 3) != (stream_ ? "200" : "101")) {
        fail((stream_ ? "stream refused: " : "upgrade refused: ") + std::string(status));
        return 0;
    }
    bool accept_ok = false, event_stream = false;
    for (std::size_t pos = eol + 2; pos < head.size();) {
        std::size_t next = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, next - pos);
        pos = next + 2;
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (iequals(name, "sec-websocket-accept")) {
            accept_ok = value == accept_;
        } else if (iequals(name, "content-type")) {
            event_stream = iequals(value.substr(0, 17), "text/event-stream");
        } else if (iequals(name, "transfer-encoding")) {
            // The last coding is the one to undo (RFC 9112 section 6.1).
            const std::size_t comma = value.rfind(',');
            chunked_ = iequals(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)), "chunked");
        }
    }
    if (stream_) {
        if (!event_stream) {
            fail("the 200 response is not text/event-stream");
            return 0;
        }
        // The welcome event makes the client ready. Without chunked coding
        // (HTTP/1.0) the body ends with the connection.
        state_ = state::opening;
        return std::size_t(end - p) + 4;
    }
    if (!accept_ok) {
        fail("missing or wrong Sec-WebSocket-Accept");
        return 0;
    }
    std::string().swap(accept_);
    state_ = ctx.protocol == protocol_kind::ws ? state::ready : state::opening;
    return std::size_t(end - p) + 4;
}

std::size_t ws_client::parse_frames(char* p, std::size_t len, receive_context& ctx) {
    std::size_t off = 0;
    while (len - off >= 2) {
        const auto* h = reinterpret_cast<const unsigned char*>(p + off);
        const bool fin = h[0] & 0x80;
        const int opcode = h[0] & 0x0f;
        const bool masked = h[1] & 0x80;
        std::uint64_t plen = h[1] & 0x7f;
        std::size_t hlen = 2;
        if (h[0] & 0x70) {
            fail("reserved bits set in a server frame (no extension was negotiated)");
            return off;
        }
        if (plen == 126) {
            if (len - off < 4) break;
            plen = (std::uint64_t(h[2]) << 8) | h[3];
            hlen = 4;
        } else if (plen == 127) {
            if (len - off < 10) break;
            plen = 0;
            for (int i = 0; i < 8; ++i) plen = (plen << 8) | h[2 + i];
            hlen = 10;
        }
        if (plen > max_message_bytes) {
            fail("server frame larger than 64 MiB");
            return off;
        }
        const std::size_t mask_at = hlen;
        if (masked) hlen += 4;
        if (len - off < hlen + plen) break;
        char* payload = p + off + hlen;
        if (masked) {  // servers must not mask, but tolerate it
            char key[4];
            std::memcpy(key, p + off + mask_at, 4);
            for (std::uint64_t i = 0; i < plen; ++i) payload[i] ^= key[i & 3];
        }
        off += hlen + std::size_t(plen);
        on_frame(fin, opcode, payload, std::size_t(plen), ctx);
        if (fd_ < 0) return off;
    }
    return off;
}

void ws_client::on_frame(bool fin, int opcode, const char* p, std::size_t n, receive_context& ctx) {
    switch (opcode) {
        case 0x1:  // text
        case 0x2:  // binary
            if (frag_opcode_ != 0) {
                fail("new data frame while a fragmented message is open");
                return;
            }
            if (fin) {
                on_message(p, n, ctx);
            } else {
                frag_opcode_ = std::uint8_t(opcode);
                fragment_.assign(p, n);
            }
            return;
        case 0x0:  // continuation
            if (frag_opcode_ == 0) {
                fail("continuation frame without a message");
                return;
            }
            if (fragment_.size() + n > max_message_bytes) {
                fail("fragmented message larger than 64 MiB");
                return;
            }
            fragment_.append(p, n);
            if (fin) {
                frag_opcode_ = 0;
                on_message(fragment_.data(), fragment_.size(), ctx);
                fragment_.clear();  // keeps the capacity for the next one
            }
            return;
        case 0x8: {  // close: echo the code, then drop the connection
            if (!fin || n == 1 || n > 125) {
                fail("malformed close frame");
                return;
            }
            int code = 1005;
            if (n >= 2) code = (int(static_cast<unsigned char>(p[0])) << 8) | static_cast<unsigned char>(p[1]);
            saw_close_frame_ = true;
            send_frame(0x8, p, n >= 2 ? 2 : 0, ctx);
            server_closed(code);
            return;
        }
        case 0x9:  // ping
            if (!fin || n > 125) {
                fail("malformed ping frame");
                return;
            }
            send_frame(0xA, p, n, ctx);
            return;
        case 0xA:  // pong
            return;
        default:
            fail("unknown opcode " + std::to_string(opcode));
            return;
    }
}

void ws_client::on_message(const char* p, std::size_t n, receive_context& ctx) {
    switch (ctx.protocol) {
        case protocol_kind::notifier:
            on_notifier_message(p, n, ctx);
            return;
        case protocol_kind::socketio:
            on_socketio_message(p, n, ctx);
            return;
        case protocol_kind::ws:
            record_delivery(scan_message(p, n), ctx);
            return;
        case protocol_kind::sse:  // never framed: on_stream_event()
            return;
    }
}

void ws_client::on_notifier_message(const char* p, std::size_t n, receive_context& ctx) {
    // Fast path: our own notifications carry "t" and "n" inside "data".
    // Everything else is rare: control frames and foreign notifications.
    scanned_fields f = scan_message(p, n);
    if (!(f.has_t && f.has_n) && has_type_member(p, n)) {
        if (message_type_is(p, n, "welcome")) {
            last_seq_ = f.seq;
            seq_known_ = f.has_seq;
            if (state_ == state::opening) become_ready();
        } else if (message_type_is(p, n, "resync")) {
            ++stats_.resyncs;
            last_seq_ = f.seq;
            seq_known_ = f.has_seq;
        }
        return;  // subscribed / pong / error frames carry no delivery
    }
    record_delivery(f, ctx);
}

void ws_client::on_socketio_message(const char* p, std::size_t n, receive_context& ctx) {
    if (n == 0) return;
    switch (p[0]) {
        case '0':  // Engine.IO open: join the default namespace
            if (state_ == state::opening) send_frame(0x1, "40", 2, ctx);
            return;
        case '2': {  // Engine.IO ping: answer pong with the same payload
            std::string pong(p, n);
            pong[0] = '3';
            send_frame(0x1, pong.data(), pong.size(), ctx);
            return;
        }
        case '1':  // Engine.IO close
            server_closed(4100);
            return;
        case '4':
            if (n < 2) return;
            switch (p[1]) {
                case '0':  // Socket.IO CONNECT acknowledged: 40{"sid":...}
                    if (state_ == state::opening) become_ready();
                    return;
                case '2':  // EVENT: 42["notification",{...}]
                    record_delivery(scan_message(p + 2, n - 2), ctx);
                    return;
                case '1':  // DISCONNECT
                    server_closed(4100);
                    return;
                case '4':  // CONNECT_ERROR
                    fail("Socket.IO connect error: " + std::string(p + 2, std::min<std::size_t>(n - 2, 200)));
                    return;
                default:
                    return;
            }
        default:  // pong, noop, upgrade: nothing to do
            return;
    }
}

void ws_client::record_delivery(const scanned_fields& f, receive_context& ctx) {
    ++stats_.messages;
    stats_.last_rx_ns = ctx.now_ns;
    if (stalled_) return;  // stalled clients only count what reached them

    if (ctx.protocol == protocol_kind::notifier || ctx.protocol == protocol_kind::sse) {
        // With the implicit "*" seq must grow by exactly one; a client with
        // its own subscriptions skips the seqs of what it does not match.
        if (!f.has_seq) {
            ++stats_.seq_errors;
        } else {
            if (seq_known_ && (ctx.seq_consecutive ? f.seq != last_seq_ + 1 : f.seq <= last_seq_)) ++stats_.seq_errors;
            if (!seq_known_ || f.seq > last_seq_) last_seq_ = f.seq;
            seq_known_ = true;
        }
    }
    const std::uint64_t latency_us = f.has_t && ctx.now_ns > f.t ? (ctx.now_ns - f.t) / 1000 : 0;
    if (f.has_t) ctx.histogram->record(latency_us);
    if (f.has_t && ctx.arrival_histogram && ctx.arrival_ns != 0)
        ctx.arrival_histogram->record(ctx.arrival_ns > f.t ? (ctx.arrival_ns - f.t) / 1000 : 0);
    if (f.has_t && f.has_n && ctx.first_histogram && f.n < (1ull << 32)) {
        if (f.n >= ctx.first_seen.size()) ctx.first_seen.resize(std::size_t(f.n) * 2 + 1024);
        if (!ctx.first_seen[std::size_t(f.n)]) {
            ctx.first_seen[std::size_t(f.n)] = true;
            ctx.first_histogram->record(latency_us);
        }
    }
    if (!f.has_n || !f.has_t) {
        ++stats_.unparsed;
        return;
    }

    // A publish of another forum: a delivery the subscriptions should not
    // have made. Kept out of "unique", so that it cannot hide a loss.
    const std::uint64_t nv = f.n;
    if (forum_ >= 0 && ctx.plan && !ctx.plan->meant_for(nv, forum_)) {
        ++stats_.unexpected;
        return;
    }

    // Duplicate check over a sliding window of the newest seen_window indexes.
    if (!seen_) {
        seen_ = std::make_unique<std::uint64_t[]>(seen_words);
        last_n_of_ = std::make_unique<std::uint64_t[]>(std::size_t(publishers_));
    }
    if (nv > max_n_) {
        if (nv - max_n_ >= seen_window) {
            std::memset(seen_.get(), 0, seen_words * sizeof(std::uint64_t));
        } else {
            // A word at a time: with --spread a client's indexes are K apart.
            for (std::uint64_t k = max_n_ + 1; k <= nv;) {
                const std::uint64_t bit = k & 63;
                const std::uint64_t span = std::min<std::uint64_t>(64 - bit, nv - k + 1);
                const std::uint64_t mask = span == 64 ? ~0ull : ((1ull << span) - 1) << bit;
                seen_[(k & (seen_window - 1)) >> 6] &= ~mask;
                k += span;
            }
        }
        max_n_ = nv;
    } else if (max_n_ - nv >= seen_window) {
        // Too old to tell a duplicate from a straggler; count it as late.
        ++stats_.unique;
        ++stats_.out_of_order;
        return;
    }
    std::uint64_t& word = seen_[(nv & (seen_window - 1)) >> 6];
    const std::uint64_t bit = 1ull << (nv & 63);
    if (word & bit) {
        ++stats_.duplicates;
        return;
    }
    word |= bit;
    ++stats_.unique;

    // Ordering: one publisher connection's notifications must arrive in the
    // order it published them (it never has two requests in flight).
    const int pub = ctx.log->owner(nv);
    if (pub >= 0 && pub < publishers_) {
        std::uint64_t& last = last_n_of_[std::size_t(pub)];
        if (nv < last) ++stats_.out_of_order;
        else last = nv;
    }
}

}  // namespace loadgen
