// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
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
// errno set on -1.
long recv_stamped(int fd, char* p, std::size_t n, std::int64_t& realtime_ns) noexcept;

// send() that never raises SIGPIPE. Returns bytes written, 0 on EAGAIN, -1
// on a real error.
long send_some(int fd, const char* p, std::size_t n) noexcept;

}  // namespace loadgen
