// SPDX-License-Identifier: MIT
#pragma once

#include <openssl/bio.h>  // BIO_METHOD; SSL and SSL_CTX come with it

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace loadgen {

class tls_context;

// What a handshake agreed on, for the report.
struct tls_session {
    std::string version;  // e.g. "TLSv1.3"; empty: no TLS
    std::string cipher;   // e.g. "TLS_AES_256_GCM_SHA384"
};

// One TLS client connection on a non-blocking socket that the caller owns,
// watches with epoll and closes after destroying the stream. Every call
// tries once and says what to wait for before the next one; a stream is
// used by one thread at a time.
//
// OpenSSL reaches the socket through its own BIO instead of SSL_set_fd's
// socket BIO: the same recvmsg() as the plain path, so that deliveries over
// TLS keep the kernel's receive time (arrival latency).
class tls_stream {
public:
    enum class status : std::uint8_t {
        ok,          // done, or bytes moved
        want_read,   // call again once the socket is readable
        want_write,  // call again once the socket is writable
        closed,      // the server ended the connection (close_notify or EOF)
        error,       // error() says why; the stream is unusable
    };

    // TLS client side of fd, connecting or connected to host: the server
    // name sent (when host is a name, not an address) and, when ctx
    // verifies, the name or address the certificate must carry.
    static std::unique_ptr<tls_stream> open(const tls_context& ctx, int fd, const std::string& host,
                                            std::string& err);
    ~tls_stream();
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    status handshake();
    // The handshake with poll() on the socket until done or deadline_ns
    // (CLOCK_MONOTONIC), for connections that connect blocking.
    bool handshake_until(std::uint64_t deadline_ns, std::string& err);

    // Up to n decrypted bytes at p; got is set with ok. OpenSSL returns a
    // record per call and keeps what it read ahead where epoll cannot see
    // it: read until want_read before waiting for the socket again.
    status read(char* p, std::size_t n, std::size_t& got);
    // Some of the n bytes; put is set with ok. After want_read or want_write
    // call again with the same bytes first (more may follow them).
    status write(const char* p, std::size_t n, std::size_t& put);
    // write() with send_some()'s contract: bytes taken, 0 to wait for the
    // socket (and call again with the same bytes first), -1 on an error.
    long write_some(const char* p, std::size_t n);
    // Sends close_notify if it can without waiting; never reads.
    void close_notify() noexcept;

    // Why the last call said error or closed, e.g. "certificate verify
    // failed (self-signed certificate)".
    const std::string& error() const noexcept { return error_; }
    tls_session session() const;
    // The kernel's receive time (CLOCK_REALTIME ns) of the newest segment
    // read from the socket since the last call, 0 if none was stamped.
    std::int64_t take_receive_time() noexcept {
        const std::int64_t t = receive_time_;
        receive_time_ = 0;
        return t;
    }
    // Bytes read from the socket since the last call: records as they came,
    // handshake included.
    std::uint64_t take_socket_bytes() noexcept {
        const std::uint64_t n = socket_bytes_;
        socket_bytes_ = 0;
        return n;
    }

    // The BIO that every stream of a tls_context reads and writes its socket
    // through; owned by that context.
    static BIO_METHOD* new_socket_method();

private:
    explicit tls_stream(int fd) noexcept : fd_(fd) {}
    status result(int ret);

    static int bio_read(BIO* b, char* p, std::size_t n, std::size_t* got);
    static int bio_write(BIO* b, const char* p, std::size_t n, std::size_t* put);
    static long bio_ctrl(BIO* b, int cmd, long num, void* ptr);

    SSL* ssl_ = nullptr;
    int fd_;
    bool eof_ = false;     // the socket read 0: BIO_CTRL_EOF tells OpenSSL
    bool broken_ = false;  // a fatal error: no close_notify may follow
    std::int64_t receive_time_ = 0;
    std::uint64_t socket_bytes_ = 0;
    std::string error_;
};

}  // namespace loadgen
