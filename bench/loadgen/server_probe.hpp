// SPDX-License-Identifier: MIT
#pragma once

namespace loadgen {

// Reads a process's resident memory and CPU time from /proc. Cheap enough
// (two small file reads) to sample ten times a second.
class server_probe {
public:
    explicit server_probe(int pid) noexcept : pid_(pid) {}

    bool enabled() const noexcept { return pid_ > 0; }
    // VmRSS in KiB, -1 if unavailable (no pid, process gone).
    long rss_kib() const;
    // utime + stime of all threads in seconds, -1 if unavailable.
    double cpu_seconds() const;

private:
    int pid_;
};

}  // namespace loadgen
