// SPDX-License-Identifier: MIT
#include "tls_stream.hpp"

#include "clock.hpp"
#include "socket_util.hpp"
#include "tls_context.hpp"

#include <arpa/inet.h>
#include <poll.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>

namespace loadgen {

namespace {

bool is_address(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

// The BIO callbacks behave as OpenSSL's socket BIO does: retry flags on
// EAGAIN, the EOF flag on a read of 0, errno left for SSL_ERROR_SYSCALL.
int tls_stream::bio_read(BIO* b, char* p, std::size_t n, std::size_t* got) {
    auto* s = static_cast<tls_stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    *got = 0;
    std::int64_t stamp = 0;
    const long r = recv_stamped(s->fd_, p, n, stamp);
    if (r > 0) {
        *got = std::size_t(r);
        s->socket_bytes_ += std::uint64_t(r);
        if (stamp > s->receive_time_) s->receive_time_ = stamp;
        return 1;
    }
    if (r == 0) s->eof_ = true;
    else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(b);
    return 0;
}

int tls_stream::bio_write(BIO* b, const char* p, std::size_t n, std::size_t* put) {
    auto* s = static_cast<tls_stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    *put = 0;
    const long w = send_some(s->fd_, p, n);
    if (w > 0) {
        *put = std::size_t(w);
        return 1;
    }
    if (w == 0) BIO_set_retry_write(b);
    return 0;
}

long tls_stream::bio_ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:  // every write went straight to the socket
            return 1;
        case BIO_CTRL_EOF:
            return static_cast<tls_stream*>(BIO_get_data(b))->eof_ ? 1 : 0;
        default:
            return 0;
    }
}

BIO_METHOD* tls_stream::new_socket_method() {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "notifier-loadgen socket");
    if (!m) return nullptr;
    if (!BIO_meth_set_read_ex(m, &tls_stream::bio_read) || !BIO_meth_set_write_ex(m, &tls_stream::bio_write) ||
        !BIO_meth_set_ctrl(m, &tls_stream::bio_ctrl)) {
        BIO_meth_free(m);
        return nullptr;
    }
    return m;
}

std::unique_ptr<tls_stream> tls_stream::open(const tls_context& ctx, int fd, const std::string& host,
                                             std::string& err) {
    std::unique_ptr<tls_stream> s(new tls_stream(fd));
    s->ssl_ = SSL_new(ctx.native());
    BIO* bio = s->ssl_ ? BIO_new(ctx.socket_method()) : nullptr;
    if (!bio) {
        err = "TLS: " + take_openssl_error("out of memory");
        return nullptr;
    }
    BIO_set_data(bio, s.get());
    BIO_set_init(bio, 1);
    SSL_set_bio(s->ssl_, bio, bio);  // the SSL owns the BIO now
    SSL_set_connect_state(s->ssl_);
    // RFC 6066 section 3: a server name is a host name, never an address.
    const bool address = is_address(host);
    if (!address && !SSL_set_tlsext_host_name(s->ssl_, host.c_str())) {
        err = "TLS server name '" + host + "': " + take_openssl_error("refused");
        return nullptr;
    }
    if (ctx.verifies()) {
        // The certificate must name what the URL names: a DNS name, or an
        // IP address in its subjectAltName.
        const int ok = address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl_), host.c_str())
                               : SSL_set1_host(s->ssl_, host.c_str());
        if (ok != 1) {
            err = "TLS host check for '" + host + "': " + take_openssl_error("refused");
            return nullptr;
        }
    }
    return s;
}

tls_stream::~tls_stream() {
    if (ssl_) SSL_free(ssl_);
}

tls_stream::status tls_stream::result(int ret) {
    const int saved_errno = errno;
    switch (SSL_get_error(ssl_, ret)) {
        case SSL_ERROR_WANT_READ:
            return status::want_read;
        case SSL_ERROR_WANT_WRITE:
            return status::want_write;
        case SSL_ERROR_ZERO_RETURN:
            error_ = "connection closed by the server";
            return status::closed;
        case SSL_ERROR_SYSCALL:
            broken_ = true;
            ERR_clear_error();
            error_ = saved_errno != 0 ? std::strerror(saved_errno) : "connection closed by the server";
            return saved_errno != 0 ? status::error : status::closed;
        default: {
            broken_ = true;
            unsigned long code = 0;
            error_ = take_openssl_error("TLS error", &code);
            const long verify = SSL_get_verify_result(ssl_);
            if (ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
                error_ += " (";
                error_ += X509_verify_cert_error_string(verify);
                error_ += ")";
            } else if (ERR_GET_REASON(code) == SSL_R_WRONG_VERSION_NUMBER) {
                error_ += " (is that port plain HTTP?)";  // what a plain server's answer looks like as a record
            }
            return status::error;
        }
    }
}

// errno is cleared before each call so that SSL_ERROR_SYSCALL reads this
// call's error, not an EAGAIN left from an earlier one.
tls_stream::status tls_stream::handshake() {
    errno = 0;
    const int r = SSL_connect(ssl_);
    return r == 1 ? status::ok : result(r);
}

bool tls_stream::handshake_until(std::uint64_t deadline_ns, std::string& err) {
    for (;;) {
        const status st = handshake();
        if (st == status::ok) return true;
        if (st != status::want_read && st != status::want_write) {
            err = error_;
            return false;
        }
        const std::uint64_t now = now_ns();
        if (now >= deadline_ns) {
            err = "timed out";
            return false;
        }
        pollfd p{fd_, short(st == status::want_read ? POLLIN : POLLOUT), 0};
        const int n = poll(&p, 1, int((deadline_ns - now) / 1'000'000 + 1));
        if (n < 0 && errno != EINTR) {
            err = std::string("poll: ") + std::strerror(errno);
            return false;
        }
    }
}

tls_stream::status tls_stream::read(char* p, std::size_t n, std::size_t& got) {
    got = 0;
    errno = 0;
    if (SSL_read_ex(ssl_, p, n, &got) == 1) return status::ok;
    return result(0);
}

tls_stream::status tls_stream::write(const char* p, std::size_t n, std::size_t& put) {
    put = 0;
    errno = 0;
    if (SSL_write_ex(ssl_, p, n, &put) == 1) return status::ok;
    return result(0);
}

long tls_stream::write_some(const char* p, std::size_t n) {
    std::size_t put = 0;
    switch (write(p, n, put)) {
        case status::ok:
            return long(put);
        case status::want_read:  // rare (a TLS 1.2 renegotiation): the retry reads what it waits for
        case status::want_write:
            return 0;
        case status::closed:
        case status::error:
            break;
    }
    return -1;
}

void tls_stream::close_notify() noexcept {
    if (broken_ || !SSL_is_init_finished(ssl_)) return;
    if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

tls_session tls_stream::session() const {
    tls_session s;
    s.version = SSL_get_version(ssl_);
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_)) s.cipher = SSL_CIPHER_get_name(c);
    return s;
}

}  // namespace loadgen
