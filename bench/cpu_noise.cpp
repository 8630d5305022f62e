// SPDX-License-Identifier: MIT
// cpu_noise: how steady are this machine's CPUs? A latency tail measured on a
// virtual machine is only meaningful if the CPUs run at a steady speed.
//
// One thread per CPU, pinned, times the same small piece of work (copying
// --work-kib KiB) every --interval-us µs for --seconds. Reported per CPU:
// median and p99 of that time, and the 100 ms windows in which more than a
// quarter of the pieces took over three times the median ("slow windows").
// Windows slow on every CPU at once point at the host, not at this guest:
// nothing else runs here while the probe does (run it on an idle machine).
//
//   ./build/bench/cpu_noise --seconds 10
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

std::uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000ull + std::uint64_t(ts.tv_nsec);
}

struct sample {
    std::uint64_t at_ns;  // since the start
    std::uint32_t took_ns;
};

struct cpu_result {
    int cpu = 0;
    std::vector<sample> samples;
    std::uint64_t median = 0, p99 = 0, max = 0;
    std::vector<bool> slow_window;
};

constexpr std::uint64_t window_ns = 100'000'000;

void probe(cpu_result& r, std::uint64_t start, std::uint64_t end, std::size_t bytes, long interval_us) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r.cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    std::vector<char> from(bytes, 1), to(bytes);
    r.samples.reserve(std::size_t((end - start) / 1000 / std::uint64_t(std::max(interval_us, 1L))) + 16);
    const timespec pause{0, interval_us * 1000};
    for (std::uint64_t t = now_ns(); t < end; t = now_ns()) {
        std::memcpy(to.data(), from.data(), bytes);
        asm volatile("" : : "r"(to.data()) : "memory");  // keep the copy
        const std::uint64_t done = now_ns();
        r.samples.push_back({t - start, std::uint32_t(std::min<std::uint64_t>(done - t, UINT32_MAX))});
        from[done % bytes] ^= 1;
        nanosleep(&pause, nullptr);
    }
}

void summarize(cpu_result& r, std::size_t windows) {
    std::vector<std::uint32_t> took;
    took.reserve(r.samples.size());
    for (const auto& s : r.samples) took.push_back(s.took_ns);
    std::sort(took.begin(), took.end());
    if (took.empty()) return;
    r.median = took[took.size() / 2];
    r.p99 = took[took.size() * 99 / 100];
    r.max = took.back();
    std::vector<std::uint32_t> all(windows, 0), slow(windows, 0);
    for (const auto& s : r.samples) {
        const std::size_t w = std::min<std::size_t>(std::size_t(s.at_ns / window_ns), windows - 1);
        ++all[w];
        if (s.took_ns > 3 * r.median) ++slow[w];
    }
    r.slow_window.assign(windows, false);
    for (std::size_t w = 0; w < windows; ++w) r.slow_window[w] = all[w] > 0 && slow[w] * 4 > all[w];
}

int usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s [--seconds S (10)] [--work-kib K (256)] [--interval-us U (200)]\n"
                 "Times a fixed copy on every CPU; reports median, p99 and 100 ms windows where over\n"
                 "a quarter of the copies took more than 3x the median. Run on an idle machine.\n",
                 self);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 10;
    long work_kib = 256, interval_us = 200;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h") return usage(argv[0]), 0;
        if (i + 1 >= argc) return usage(argv[0]);
        char* end = nullptr;
        const double v = std::strtod(argv[++i], &end);
        if (!end || *end != '\0' || v <= 0) return usage(argv[0]);
        if (a == "--seconds") seconds = v;
        else if (a == "--work-kib") work_kib = long(v);
        else if (a == "--interval-us") interval_us = long(v);
        else return usage(argv[0]);
    }
    if (work_kib < 1 || seconds > 3600) return usage(argv[0]);

    cpu_set_t allowed;
    sched_getaffinity(0, sizeof allowed, &allowed);
    std::vector<cpu_result> results;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed)) results.push_back(cpu_result{c, {}, 0, 0, 0, {}});

    const std::uint64_t start = now_ns() + 50'000'000;  // let every thread get going
    const std::uint64_t end = start + std::uint64_t(seconds * 1e9);
    {
        std::vector<std::jthread> threads;
        for (auto& r : results)
            threads.emplace_back([&r, start, end, work_kib, interval_us] {
                while (now_ns() < start) {
                }
                probe(r, start, end, std::size_t(work_kib) * 1024, interval_us);
            });
    }
    const std::size_t windows = std::max<std::size_t>(1, std::size_t((end - start + window_ns - 1) / window_ns));
    for (auto& r : results) summarize(r, windows);

    std::size_t everywhere = 0;
    for (std::size_t w = 0; w < windows; ++w) {
        bool all = !results.empty();
        for (const auto& r : results) all = all && r.slow_window[w];
        everywhere += all ? 1 : 0;
    }
    std::printf("cpu_noise: %zu CPUs, %.0f s, copy of %ld KiB every %ld us\n", results.size(), seconds, work_kib,
                interval_us);
    std::string json = "{\"cpus\":[";
    for (const auto& r : results) {
        std::size_t slow = 0;
        std::string at;
        for (std::size_t w = 0; w < windows; ++w)
            if (r.slow_window[w]) {
                ++slow;
                if (at.size() < 120) at += (at.empty() ? "" : " ") + std::to_string(double(w) / 10).substr(0, 4) + "s";
            }
        std::printf("  cpu%-3d copies %6zu  median %6.1f us  p99 %7.1f us  max %8.1f us  slow windows %zu/%zu%s%s\n",
                    r.cpu, r.samples.size(), double(r.median) / 1e3, double(r.p99) / 1e3, double(r.max) / 1e3, slow,
                    windows, at.empty() ? "" : "  at ", at.c_str());
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s{\"cpu\":%d,\"median_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"slow_windows\":%zu}",
                      &r == &results.front() ? "" : ",", r.cpu, double(r.median) / 1e3, double(r.p99) / 1e3,
                      double(r.max) / 1e3, slow);
        json += buf;
    }
    std::printf("  windows slow on every CPU at once: %zu of %zu (%.1f %% of the time)\n", everywhere, windows,
                100.0 * double(everywhere) / double(windows));
    std::printf("%s],\"windows\":%zu,\"slow_everywhere\":%zu}\n", json.c_str(), windows, everywhere);
    return 0;
}
