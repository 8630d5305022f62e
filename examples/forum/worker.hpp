// SPDX-License-Identifier: MIT
#pragma once
// One thread that runs jobs in order: the API's database work happens here,
// off the hub's event loop, which serves every client.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace forum {

class worker {
public:
    /// At most `max_queued` jobs wait; beyond that post() refuses, so a flood
    /// of requests cannot grow memory without bound.
    explicit worker(std::size_t max_queued = 1024);
    ~worker();  ///< stop()s
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    /// Queues a job; false when the queue is full or the worker stopped.
    bool post(std::function<void()> job);
    /// Finishes the running job, drops the waiting ones and joins.
    void stop();

private:
    void run();

    std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace forum
