// SPDX-License-Identifier: MIT
// net::connection and net::http_stream under TLS on real loopback sockets,
// the peer a plain OpenSSL client in a thread: the handshake and its
// plain-HTTP refusal, reads that leave decrypted bytes inside OpenSSL, and
// gather-writes through a small send buffer, so that SSL_write meets
// WANT_WRITE and must resume from the write queue's front. Plus
// tls_context's reload rules.

#include "core/write_queue.hpp"
#include "net/connection.hpp"
#include "net/gather_write.hpp"
#include "net/http_stream.hpp"
#include "net/tls_context.hpp"
#include "support/cert_files.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using notifier::net::connection;
using notifier::net::http_stream;
using notifier::test::cert_files;

notifier::options tls_options(const cert_files& c) {
    notifier::options o;
    o.tls_cert_file = c.cert;
    o.tls_key_file = c.key;
    return o;
}

// A blocking TLS client on a connected descriptor.
struct tls_client {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    int fd = -1;

    explicit tls_client(std::uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    }
    ~tls_client() {
        if (ssl) SSL_free(ssl);
        SSL_CTX_free(ctx);
        ::close(fd);
    }
    bool handshake() {
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        return SSL_connect(ssl) == 1;
    }
    // SSL_read in reads of `chunk` bytes into `out` until `done(out)` or the end.
    template <class Done>
    void read_into(std::string& out, std::size_t chunk, Done done) {
        std::vector<char> buf(chunk);
        while (!done(out)) {
            const int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
            if (n <= 0) break;
            out.append(buf.data(), static_cast<std::size_t>(n));
        }
    }
    void set_receive_buffer(int bytes) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
        const int on = 1;  // no delayed-ACK stalls between the small windows
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
};

// The server side: accepts one connection and runs http_stream's handshake.
struct server {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }

    // The handshake's outcome, and the connection when it succeeded.
    boost::system::error_code handshake(ssl_ctx_st* ctx, std::optional<connection>& out) {
        tcp::socket s = acceptor.accept();
        http_stream stream(std::move(s));
        stream.expires_after(std::chrono::seconds(10));
        boost::system::error_code result;
        bool done = false;
        stream.async_handshake(ctx, [&](boost::system::error_code ec) {
            result = ec;
            done = true;
            stream.expires_never();  // lets run() return
        });
        ioc.run();
        ioc.restart();
        EXPECT_TRUE(done);
        if (!result) out.emplace(stream.release());
        return result;
    }
};

// The kernel's smallest send buffer: writes keep meeting a full socket.
void shrink_send_buffer(connection& c) {
    int small = 4096;
    ::setsockopt(c.socket().native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    c.socket().set_option(tcp::no_delay(true));
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen());
    return s;
}

TEST(TlsConnection, HandshakeThenBytesBothWays) {
    cert_files c("localhost");
    notifier::net::tls_context tls(tls_options(c));
    server srv;
    std::string got;
    std::thread client([&, port = srv.port()] {
        tls_client cl(port);
        ASSERT_TRUE(cl.handshake());
        // One record of 10,000 bytes; the server reads it 100 bytes at a
        // time, so most of it waits inside OpenSSL, not in the socket.
        const auto hello = random_bytes(10'000, 1);
        ASSERT_EQ(SSL_write(cl.ssl, hello.data(), static_cast<int>(hello.size())), 10'000);
        char buf[64];
        const int n = SSL_read(cl.ssl, buf, sizeof buf);
        got.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    });
    std::optional<connection> conn;
    ASSERT_FALSE(srv.handshake(tls.current().get(), conn));
    ASSERT_TRUE(conn->is_tls());
    EXPECT_FALSE(conn->kernel_tls_send());  // not asked for

    std::string received;
    std::function<void(boost::system::error_code)> on_ready = [&](boost::system::error_code ec) {
        ASSERT_FALSE(ec);
        char buf[100];
        boost::system::error_code rec;
        const auto n = conn->read_some(std::span<char>(buf, sizeof buf), rec);
        if (!rec) received.append(buf, n);
        else ASSERT_EQ(rec, asio::error::would_block);
        if (received.size() < 10'000) conn->async_wait_readable(on_ready);
    };
    conn->async_wait_readable(on_ready);
    srv.ioc.run();
    EXPECT_EQ(received, random_bytes(10'000, 1));

    const std::string_view reply[] = {"thank", "s"};
    boost::system::error_code ec;
    EXPECT_EQ(conn->write_some(reply, ec), 6u);
    EXPECT_FALSE(ec);
    client.join();
    EXPECT_EQ(got, "thanks");
}

TEST(TlsConnection, GatherWriteThroughASmallSendBufferDeliversEveryByteInOrder) {
    cert_files c("localhost");
    notifier::net::tls_context tls(tls_options(c));
    server srv;
    // Frames of every size around a record's 16 KiB, many small ones to be
    // coalesced: 1 MiB in all.
    std::vector<std::string> frames;
    std::string expected;
    std::mt19937 gen(7);
    for (std::size_t total = 0; total < (1u << 20);) {
        const std::size_t size = gen() % 4 == 0 ? 1 + gen() % 40'000 : 1 + gen() % 300;
        frames.push_back(random_bytes(size, static_cast<unsigned>(frames.size())));
        expected += frames.back();
        total += size;
    }
    std::string received;
    std::thread client([&, port = srv.port()] {
        tls_client cl(port);
        cl.set_receive_buffer(32 * 1024);
        ASSERT_TRUE(cl.handshake());
        // Small reads: the sender keeps meeting a full buffer.
        cl.read_into(received, 3000, [&](const std::string& r) { return r.size() >= expected.size(); });
    });
    std::optional<connection> conn;
    ASSERT_FALSE(srv.handshake(tls.current().get(), conn));
    shrink_send_buffer(*conn);

    notifier::core::write_queue queue;
    std::size_t next = 0, blocked = 0;
    while (next < frames.size() || !queue.empty()) {
        // Frames keep arriving while a write is pending, as in a session.
        for (int i = 0; i < 5 && next < frames.size(); ++i) {
            auto owned = std::make_shared<const std::string>(frames[next++]);
            queue.push(owned, *owned);
        }
        const auto r = notifier::net::gather_write(*conn, queue);
        ASSERT_FALSE(r.failed);
        if (!queue.empty()) {
            ++blocked;
            pollfd p{conn->socket().native_handle(), POLLOUT, 0};
            ASSERT_EQ(::poll(&p, 1, 10'000), 1);
        }
    }
    client.join();
    EXPECT_GT(blocked, 10u) << "the send buffer never filled: the resume path was not exercised";
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

// A session closing a slow consumer drops the frames it has not started
// and queues its close frame. Under TLS, OpenSSL may hold some of those
// frames in a record half sent: they must stay, or the retry fails and the
// close frame never leaves.
TEST(TlsConnection, DroppingUnstartedFramesKeepsWhatOpenSslHolds) {
    cert_files c("localhost");
    notifier::net::tls_context tls(tls_options(c));
    server srv;
    std::string expected;
    std::vector<std::string> frames;
    for (int i = 0; i < 4000; ++i) frames.push_back("frame " + std::to_string(i) + std::string(200, '.') + "\n");
    const std::string end = "END";
    std::string received;
    std::atomic<bool> reading{false};
    std::thread client([&, port = srv.port()] {
        tls_client cl(port);
        cl.set_receive_buffer(4096);
        ASSERT_TRUE(cl.handshake());
        while (!reading) std::this_thread::yield();  // a reader that stalls until the server blocked
        cl.read_into(received, 4096, [&](const std::string& r) {
            return r.size() >= end.size() && r.compare(r.size() - end.size(), end.size(), end) == 0;
        });
    });
    std::optional<connection> conn;
    ASSERT_FALSE(srv.handshake(tls.current().get(), conn));
    shrink_send_buffer(*conn);

    notifier::core::write_queue queue;
    std::size_t next = 0;
    // Fill until the kernel and OpenSSL take no more.
    while (next < frames.size()) {
        for (int i = 0; i < 50 && next < frames.size(); ++i) {
            auto owned = std::make_shared<const std::string>(frames[next++]);
            queue.push(owned, *owned);
        }
        const auto before = queue.bytes();
        ASSERT_FALSE(notifier::net::gather_write(*conn, queue).failed);
        if (queue.bytes() == before && conn->committed_bytes() > 0) break;
    }
    ASSERT_GT(conn->committed_bytes(), 0u) << "never blocked mid-record";
    queue.drop_unstarted();
    auto owned_end = std::make_shared<const std::string>(end);
    queue.push(owned_end, *owned_end);
    reading = true;
    while (!queue.empty()) {
        ASSERT_FALSE(notifier::net::gather_write(*conn, queue).failed) << "the retried record was refused";
        if (!queue.empty()) {
            pollfd p{conn->socket().native_handle(), POLLOUT, 0};
            ASSERT_EQ(::poll(&p, 1, 10'000), 1);
        }
    }
    client.join();
    // Whole frames from the start, then the end marker.
    ASSERT_GE(received.size(), end.size());
    EXPECT_EQ(received.substr(received.size() - end.size()), end);
    const auto body = received.substr(0, received.size() - end.size());
    std::string prefix;
    for (const auto& f : frames) {
        if (prefix.size() >= body.size()) break;
        prefix += f;
    }
    EXPECT_EQ(body, prefix) << "received " << body.size() << " bytes";
}

TEST(TlsConnection, PlainHttpOnTheTlsPortIsRecognisedBeforeAnyTlsByte) {
    cert_files c("localhost");
    notifier::net::tls_context tls(tls_options(c));
    server srv;
    std::thread client([port = srv.port()] {
        tls_client cl(port);
        const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        ASSERT_EQ(::send(cl.fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
        char b;
        ::recv(cl.fd, &b, 1, 0);  // until the server closes
    });
    std::optional<connection> conn;
    EXPECT_EQ(srv.handshake(tls.current().get(), conn), boost::system::errc::protocol_not_supported);
    client.join();
}

TEST(TlsConnection, HandshakeTimesOutWhenTheClientSendsNothing) {
    cert_files c("localhost");
    notifier::net::tls_context tls(tls_options(c));
    server srv;
    tls_client silent(srv.port());
    tcp::socket s = srv.acceptor.accept();
    http_stream stream(std::move(s));
    stream.expires_after(std::chrono::milliseconds(50));
    boost::system::error_code result;
    stream.async_handshake(tls.current().get(), [&](boost::system::error_code ec) { result = ec; });
    srv.ioc.run();
    EXPECT_EQ(result, boost::beast::error::timeout);
}

TEST(TlsContext, ReloadKeepsTheCurrentPairWhenTheNewOneIsBad) {
    cert_files a("first"), b("second");
    auto opts = tls_options(a);
    notifier::net::tls_context tls(opts);
    EXPECT_NE(tls.describe().find("CN=first"), std::string::npos);
    const auto before = tls.current();

    // The key of another certificate.
    std::filesystem::copy_file(b.key, a.key, std::filesystem::copy_options::overwrite_existing);
    try {
        tls.reload();
        ADD_FAILURE() << "a key of another certificate was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("does not belong to the certificate"), std::string::npos) << e.what();
    }
    EXPECT_EQ(tls.current(), before);

    // A file that is not PEM.
    std::filesystem::copy_file(b.cert, a.cert, std::filesystem::copy_options::overwrite_existing);
    { std::FILE* f = std::fopen(a.key.c_str(), "w"); std::fputs("not a key\n", f); std::fclose(f); }
    EXPECT_THROW(tls.reload(), std::invalid_argument);
    EXPECT_EQ(tls.current(), before);

    // The right pair: new handshakes get it.
    std::filesystem::copy_file(b.key, a.key, std::filesystem::copy_options::overwrite_existing);
    tls.reload();
    EXPECT_NE(tls.current(), before);
    EXPECT_NE(tls.describe().find("CN=second"), std::string::npos);
}

TEST(TlsContext, ACertificateWithoutAKeyIsRefused) {
    cert_files c("localhost");
    auto o = tls_options(c);
    o.tls_key_file.clear();
    EXPECT_THROW(notifier::net::tls_context tls(o), std::invalid_argument);
    o = tls_options(c);
    o.tls_cert_file.clear();
    EXPECT_THROW(notifier::net::tls_context tls(o), std::invalid_argument);
}

TEST(TlsContext, MissingFilesAreNamed) {
    notifier::options o;
    o.tls_cert_file = "/nonexistent/cert.pem";
    o.tls_key_file = "/nonexistent/key.pem";
    try {
        notifier::net::tls_context tls(o);
        ADD_FAILURE();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
    }
}

}  // namespace
