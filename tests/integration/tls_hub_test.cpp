// SPDX-License-Identifier: MIT
// A hub of four shards with TLS (options::tls_cert_file): WebSocket and SSE
// clients speaking OpenSSL over real sockets receive every notify() in
// order, while a handshake flood stalls mid-handshake beside them; a reload
// changes what the next handshake presents and nothing else. The C++ side
// of what tests/integration/python/test_tls.py checks with other clients,
// here so that it also runs under the sanitizers.

#include "support/cert_files.hpp"
#include "support/test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using notifier::test::cert_files;

int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    return fd;
}

// A blocking TLS client: enough HTTP and WebSocket framing to read what the
// server sends (server frames are unmasked).
class tls_client {
public:
    explicit tls_client(std::uint16_t port) : fd_(connect_to(port)) {
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
    }
    ~tls_client() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
        ::close(fd_);
    }

    // The subject of the certificate the server presented.
    std::string peer_subject() const {
        X509* cert = SSL_get1_peer_certificate(ssl_);
        char buf[256] = {};
        X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
        X509_free(cert);
        return buf;
    }

    void send(const std::string& s) {
        if (SSL_write(ssl_, s.data(), static_cast<int>(s.size())) != static_cast<int>(s.size()))
            throw std::runtime_error("write failed");
    }
    // The response head, through the blank line.
    std::string read_head() {
        std::string head;
        while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) head += read_byte();
        return head;
    }
    // One WebSocket frame's payload.
    std::string read_frame() {
        const unsigned char b0 = read_byte(), b1 = read_byte();
        (void)b0;
        std::uint64_t len = b1 & 0x7f;
        const int extra = len == 126 ? 2 : len == 127 ? 8 : 0;
        if (extra) {
            len = 0;
            for (int i = 0; i < extra; ++i) len = (len << 8) | read_byte();
        }
        return read_exact(len);
    }
    // One chunk's data (chunked transfer coding).
    std::string read_chunk() {
        std::string size_line;
        while (size_line.size() < 2 || size_line.compare(size_line.size() - 2, 2, "\r\n") != 0) size_line += read_byte();
        const auto size = std::stoul(size_line, nullptr, 16);
        std::string data = read_exact(size);
        read_exact(2);
        return data;
    }

private:
    unsigned char read_byte() { return static_cast<unsigned char>(read_exact(1)[0]); }
    std::string read_exact(std::uint64_t n) {
        std::string out(n, '\0');
        std::size_t got = 0;
        while (got < n) {
            const int r = SSL_read(ssl_, out.data() + got, static_cast<int>(n - got));
            if (r <= 0) throw std::runtime_error("connection ended");
            got += static_cast<std::size_t>(r);
        }
        return out;
    }

    SSL_CTX* ctx_ = SSL_CTX_new(TLS_client_method());
    SSL* ssl_ = nullptr;
    int fd_;
};

notifier::options tls_options(const cert_files& c) {
    notifier::options o;
    o.threads = 4;
    o.tls_cert_file = c.cert;
    o.tls_key_file = c.key;
    o.handshake_timeout = std::chrono::seconds(2);
    return o;
}

const std::string upgrade =
    "GET /ws?collections=posts HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

TEST(TlsHub, EveryClientOnEveryShardGetsEveryNotificationInOrderBesideAStalledHandshakeFlood) {
    cert_files c("localhost");
    auto opts = tls_options(c);
    opts.max_queue_bytes = 64 << 20;  // all of it may queue: readers here are slower than notify()
    notifier::test::test_server server(opts);
    const auto port = server.port();

    // Connections that never finish a handshake: they hold nothing but
    // their descriptor until the handshake timeout.
    std::vector<int> stalled;
    for (int i = 0; i < 50; ++i) {
        stalled.push_back(connect_to(port));
        if (i % 2) ::send(stalled.back(), "\x16\x03\x01\x02\x00\x01", 6, 0);  // half a ClientHello
    }

    constexpr int clients = 8, count = 2000;
    std::vector<std::unique_ptr<tls_client>> ws;
    for (int i = 0; i < clients; ++i) {
        ws.push_back(std::make_unique<tls_client>(port));
        ws.back()->send(upgrade);
        ASSERT_NE(ws.back()->read_head().find("101 Switching Protocols"), std::string::npos);
        ASSERT_NE(ws.back()->read_frame().find("\"welcome\""), std::string::npos);
    }
    auto sse = std::make_unique<tls_client>(port);
    sse->send("GET /sse?collections=posts HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_NE(sse->read_head().find("text/event-stream"), std::string::npos);
    ASSERT_NE(sse->read_chunk().find("event: welcome"), std::string::npos);

    // Data of every size around a TLS record's 16 KiB.
    std::thread publisher([&] {
        auto n = server.make_notifier();
        for (int i = 1; i <= count; ++i) {
            const std::string data = "{\"pad\":\"" + std::string(static_cast<std::size_t>(i * 7919 % 20'000), 'x') + "\"}";
            while (n.notify("posts", "create", std::to_string(i), data) == notifier::errc::overloaded) std::this_thread::yield();
        }
    });
    std::vector<std::thread> readers;
    std::vector<int> in_order(clients, 0);
    for (int k = 0; k < clients; ++k)
        readers.emplace_back([&, k] {
            for (int i = 1; i <= count; ++i) {
                const auto frame = ws[k]->read_frame();
                boost::system::error_code ec;
                const auto v = boost::json::parse(frame, ec);
                if (ec || !v.is_object() || !v.as_object().contains("id") ||
                    v.as_object().at("id") != boost::json::value(std::to_string(i))) {
                    ADD_FAILURE() << "client " << k << " expected " << i << ", got " << frame.substr(0, 200);
                    return;
                }
                in_order[k] = i;
            }
        });
    int sse_in_order = 0;
    readers.emplace_back([&] {
        // A chunk carries one write: one event or several.
        std::string pending;
        for (int i = 1; i <= count; ++i) {
            std::size_t end;
            while ((end = pending.find("\n\n")) == std::string::npos) pending += sse->read_chunk();
            const auto event = pending.substr(0, end);
            pending.erase(0, end + 2);
            if (event.find("\"id\":\"" + std::to_string(i) + "\"") == std::string::npos) return;
            sse_in_order = i;
        }
    });
    publisher.join();
    for (auto& t : readers) t.join();
    for (int k = 0; k < clients; ++k) EXPECT_EQ(in_order[k], count) << "WebSocket client " << k;
    EXPECT_EQ(sse_in_order, count);

    // The stalled ones are dropped by the handshake timeout.
    for (int fd : stalled) {
        char b;
        EXPECT_LE(::recv(fd, &b, 1, 0), 0);
        ::close(fd);
    }
}

TEST(TlsHub, ReloadChangesWhatTheNextHandshakePresentsAndKeepsOpenConnections) {
    cert_files first("first"), second("second");
    auto opts = tls_options(first);
    const auto cert = first.dir / "live-cert.pem", key = first.dir / "live-key.pem";
    std::filesystem::copy_file(first.cert, cert);
    std::filesystem::copy_file(first.key, key);
    opts.tls_cert_file = cert;
    opts.tls_key_file = key;
    notifier::test::test_server server(opts);

    tls_client before(server.port());
    EXPECT_NE(before.peer_subject().find("CN=first"), std::string::npos);
    before.send(upgrade);
    ASSERT_NE(before.read_head().find("101"), std::string::npos);
    before.read_frame();  // welcome

    // A key of another certificate: refused, the old pair stays.
    std::filesystem::copy_file(second.key, key, std::filesystem::copy_options::overwrite_existing);
    EXPECT_THROW(server.get().reload_tls(), std::invalid_argument);
    EXPECT_NE(tls_client(server.port()).peer_subject().find("CN=first"), std::string::npos);

    std::filesystem::copy_file(second.cert, cert, std::filesystem::copy_options::overwrite_existing);
    server.get().reload_tls();
    EXPECT_NE(tls_client(server.port()).peer_subject().find("CN=second"), std::string::npos);

    // The connection from before the reload still works.
    ASSERT_FALSE(server.make_notifier().notify("posts", "update", "1"));
    EXPECT_NE(before.read_frame().find("\"update\""), std::string::npos);
}

TEST(TlsHub, ReloadWithoutTlsIsALogicError) {
    notifier::test::test_server server;
    EXPECT_FALSE(server.get().tls());
    EXPECT_THROW(server.get().reload_tls(), std::logic_error);
}

}  // namespace
