// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

namespace loadgen {

struct url;

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft
// limit.
long raise_fd_limit();

// Creates a non-blocking TCP socket and starts connecting it to target.
// rcvbuf > 0 sets SO_RCVBUF before connect (it must precede the handshake
// for the window to stay small). source_v4 != 0 binds the local IPv4
// address first (host byte order), to spread many loopback connections over
// several source addresses. SO_TIMESTAMPNS is on: reads carry the kernel's
// receive time. Returns the fd (connection in progress) or -1
// with errno set.
int start_connect(const url& target, int rcvbuf, unsigned source_v4);

// Blocking connect with TCP_NODELAY, then switched to non-blocking. Returns
// the fd or -1 and sets err.
int connect_blocking(const url& target, std::string& err);

// recvmsg() of up to n bytes that also returns the kernel's receive time of
// the newest segment read (SO_TIMESTAMPNS, CLOCK_REALTIME ns) in
// realtime_ns, 0 when the kernel gave none. Returns what recvmsg() returns,
// errno set on -1. Inline: it is the plain receive path's one read.
inline long recv_stamped(int fd, char* p, std::size_t n, std::int64_t& realtime_ns) noexcept {
    iovec iov{p, n};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t r = recvmsg(fd, &msg, 0);
    realtime_ns = 0;
    if (r <= 0) return long(r);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        realtime_ns = std::int64_t(ts.tv_sec) * 1'000'000'000ll + std::int64_t(ts.tv_nsec);
    }
    return long(r);
}

// send() that never raises SIGPIPE. Returns bytes written, 0 on EAGAIN, -1
// on a real error.
long send_some(int fd, const char* p, std::size_t n) noexcept;

}  // namespace loadgen
