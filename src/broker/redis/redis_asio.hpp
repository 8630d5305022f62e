// SPDX-License-Identifier: MIT
#pragma once
// Drives a hiredis async context from an Asio event loop: hiredis asks for
// read/write interest through its ev hooks; we wait for readiness on the
// socket and call redisAsyncHandleRead/Write. Works with hiredis 0.14 and 1.x.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>

struct redisAsyncContext;

namespace notifier::redis {

class asio_adapter : public std::enable_shared_from_this<asio_adapter> {
public:
    /// Attaches to `ac` (which must have no adapter yet). The adapter lives
    /// until hiredis frees the context (its cleanup hook).
    static void attach(boost::asio::io_context& ioc, redisAsyncContext* ac);

    asio_adapter(boost::asio::io_context& ioc, redisAsyncContext* ac);

private:
    void add_read();
    void del_read() { want_read_ = false; }
    void add_write();
    void del_write() { want_write_ = false; }
    void cleanup();
    void arm(bool write);

    redisAsyncContext* ac_;
    boost::asio::posix::stream_descriptor sd_;
    bool want_read_ = false, want_write_ = false;
    bool read_armed_ = false, write_armed_ = false;
    bool dead_ = false;
    std::shared_ptr<asio_adapter> self_;  // alive while attached
};

}  // namespace notifier::redis
