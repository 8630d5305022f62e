// SPDX-License-Identifier: MIT
#include "publish_connection.hpp"

#include "clock.hpp"
#include "publish_log.hpp"
#include "socket_util.hpp"
#include "spread_plan.hpp"
#include "tls_context.hpp"
#include "url.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace loadgen {

namespace {

constexpr std::size_t max_response_bytes = 1 << 20;

bool header_is(std::string_view line, std::string_view name, std::string_view& value) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    value = line.substr(name.size() + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return true;
}

bool contains_token(std::string_view v, std::string_view token) {
    std::string lower(v);
    for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return lower.find(token) != std::string::npos;
}

}  // namespace

publish_connection::publish_connection(int id, const url& target, int expect_status, const tls_context* tls,
                                       double handshake_timeout_s)
    : id_(id), expect_status_(expect_status), target_(&target), tls_context_(tls),
      handshake_timeout_s_(handshake_timeout_s) {
    prefix_ = "POST " + target.target + " HTTP/1.1\r\nHost: " + target.host_header +
              "\r\nContent-Type: application/json\r\nUser-Agent: notifier-loadgen\r\nContent-Length: ";
}

publish_connection::~publish_connection() { close_socket(); }

void publish_connection::close_socket() noexcept {
    if (tls_) {
        tls_->close_notify();
        tls_.reset();
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool publish_connection::connect(std::string& err) {
    close_socket();
    in_flight_ = false;
    must_reconnect_ = false;
    out_.clear();
    in_.clear();
    fd_ = connect_blocking(*target_, err);
    if (fd_ < 0 || !tls_context_) return fd_ >= 0;
    tls_ = tls_stream::open(*tls_context_, fd_, target_->host, err);
    if (tls_ && tls_->handshake_until(now_ns() + ns_from_s(handshake_timeout_s_), err)) return true;
    err = "TLS handshake with " + target_->host_header + ": " + err;
    close_socket();
    return false;
}

bool publish_connection::send(std::uint64_t n, publish_log& log, const spread_plan& plan) {
    char body[384];  // the collection name is at most 128 bytes
    log.set_owner(n, id_);
    n_ = n;
    const std::size_t blen = plan.body(body, sizeof body, now_ns(), n);
    out_ = prefix_;
    out_ += std::to_string(blen);
    out_ += "\r\n\r\n";
    out_.append(body, blen);
    in_flight_ = true;
    return flush();
}

bool publish_connection::flush() {
    while (!out_.empty()) {
        long w = tls_ ? tls_->write_some(out_.data(), out_.size()) : send_some(fd_, out_.data(), out_.size());
        if (w < 0) return false;
        if (w == 0) return true;  // EPOLLOUT will call again
        out_.erase(0, std::size_t(w));
    }
    return true;
}

bool publish_connection::read_plain(bool& eof) {
    char buf[16384];
    for (;;) {
        ssize_t r = recv(fd_, buf, sizeof buf, 0);
        if (r > 0) {
            in_.append(buf, std::size_t(r));
            if (std::size_t(r) < sizeof buf) return true;
            continue;
        }
        if (r == 0) {
            eof = true;
            return true;
        }
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

// Until want_read: what OpenSSL read ahead would not wake epoll again.
bool publish_connection::read_tls(bool& eof) {
    char buf[16384];
    for (;;) {
        std::size_t got = 0;
        switch (tls_->read(buf, sizeof buf, got)) {
            case tls_stream::status::ok:
                in_.append(buf, got);
                continue;
            case tls_stream::status::want_read:
            case tls_stream::status::want_write:  // rare; the next request's write sends what it waits for
                return true;
            case tls_stream::status::closed:
                eof = true;
                return true;
            case tls_stream::status::error:
                return false;
        }
    }
}

publish_connection::outcome publish_connection::on_readable() {
    bool eof = false;
    if (!(tls_ ? read_tls(eof) : read_plain(eof))) return outcome::broken;
    if (!in_flight_) return eof ? outcome::broken : outcome::pending;  // unsolicited bytes: ignore
    std::size_t consumed = 0;
    switch (parse_response(eof, consumed)) {
        case parse_result::incomplete:
            if (eof || in_.size() > max_response_bytes) return outcome::broken;
            return outcome::pending;
        case parse_result::malformed:
            return outcome::broken;
        case parse_result::complete:
            break;
    }
    in_.erase(0, consumed);
    in_flight_ = false;
    if (eof) must_reconnect_ = true;
    return last_status_ == expect_status_ ? outcome::accepted : outcome::rejected;
}

publish_connection::parse_result publish_connection::parse_response(bool at_eof, std::size_t& consumed) {
    std::string_view in = in_;
    std::size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return parse_result::incomplete;
    std::string_view head = in.substr(0, head_end + 2);
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return parse_result::malformed;
    int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    if (status < 100) return parse_result::malformed;

    long long content_length = -1;
    bool chunked = false;
    for (std::size_t pos = head.find("\r\n") + 2; pos < head.size();) {
        std::size_t eol = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 2;
        std::string_view v;
        if (header_is(line, "content-length", v)) content_length = std::atoll(std::string(v).c_str());
        else if (header_is(line, "transfer-encoding", v)) chunked = contains_token(v, "chunked");
        else if (header_is(line, "connection", v) && contains_token(v, "close")) must_reconnect_ = true;
    }
    if (head.substr(0, 8) == "HTTP/1.0") must_reconnect_ = true;  // unless keep-alive; keep it simple

    std::size_t body = head_end + 4;
    std::size_t end = 0;
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
        end = body;
    } else if (chunked) {
        std::size_t pos = body;
        for (;;) {
            std::size_t eol = in.find("\r\n", pos);
            if (eol == std::string_view::npos) return parse_result::incomplete;
            unsigned long size = std::strtoul(std::string(in.substr(pos, eol - pos)).c_str(), nullptr, 16);
            pos = eol + 2;
            if (size == 0) {
                for (;;) {  // trailers up to an empty line
                    std::size_t t = in.find("\r\n", pos);
                    if (t == std::string_view::npos) return parse_result::incomplete;
                    bool empty = t == pos;
                    pos = t + 2;
                    if (empty) break;
                }
                end = pos;
                break;
            }
            if (in.size() < pos + size + 2) return parse_result::incomplete;
            pos += size + 2;
        }
    } else if (content_length >= 0) {
        if (in.size() < body + std::size_t(content_length)) return parse_result::incomplete;
        end = body + std::size_t(content_length);
    } else {
        // No framing: the body runs to the end of the connection.
        if (!at_eof) return parse_result::incomplete;
        end = in.size();
        must_reconnect_ = true;
    }
    last_status_ = status;
    last_body_.assign(in.substr(body, std::min<std::size_t>(end - body, 300)));
    consumed = end;
    return parse_result::complete;
}

}  // namespace loadgen
