// SPDX-License-Identifier: MIT
#include "server_probe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace loadgen {

namespace {

// Reads a small /proc file in one go (no stdio buffering, no allocation).
long read_small_file(const char* path, char* buf, std::size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return n;
}

}  // namespace

long server_probe::rss_kib() const {
    if (pid_ <= 0) return -1;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", pid_);
    char buf[4096];
    if (read_small_file(path, buf, sizeof buf) < 0) return -1;
    const char* line = std::strstr(buf, "\nVmRSS:");
    if (!line) return -1;
    return std::strtol(line + 7, nullptr, 10);
}

double server_probe::cpu_seconds() const {
    if (pid_ <= 0) return -1;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid_);
    char buf[2048];
    if (read_small_file(path, buf, sizeof buf) < 0) return -1;
    // The command name may contain spaces and parentheses: fields start after
    // the last ')'. Field 3 is the state; utime and stime are fields 14, 15.
    const char* p = std::strrchr(buf, ')');
    if (!p) return -1;
    p += 2;
    for (int field = 3; field < 14 && *p; ++field) {
        p = std::strchr(p, ' ');
        if (!p) return -1;
        ++p;
    }
    char* end = nullptr;
    unsigned long long utime = std::strtoull(p, &end, 10);
    unsigned long long stime = std::strtoull(end, nullptr, 10);
    static const long ticks = sysconf(_SC_CLK_TCK);
    return double(utime + stime) / double(ticks > 0 ? ticks : 100);
}

}  // namespace loadgen
