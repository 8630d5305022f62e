// SPDX-License-Identifier: MIT
#include "broker/redis/redis_asio.hpp"

#include <hiredis/async.h>

namespace notifier::redis {

namespace asio = boost::asio;
using boost::system::error_code;

asio_adapter::asio_adapter(asio::io_context& ioc, redisAsyncContext* ac) : ac_(ac), sd_(ioc) {
    error_code ec;
    sd_.assign(ac->c.fd, ec);  // hiredis owns the fd: released in cleanup()
}

void asio_adapter::attach(asio::io_context& ioc, redisAsyncContext* ac) {
    auto a = std::make_shared<asio_adapter>(ioc, ac);
    a->self_ = a;
    ac->ev.data = a.get();
    ac->ev.addRead = [](void* p) { static_cast<asio_adapter*>(p)->add_read(); };
    ac->ev.delRead = [](void* p) { static_cast<asio_adapter*>(p)->del_read(); };
    ac->ev.addWrite = [](void* p) { static_cast<asio_adapter*>(p)->add_write(); };
    ac->ev.delWrite = [](void* p) { static_cast<asio_adapter*>(p)->del_write(); };
    ac->ev.cleanup = [](void* p) { static_cast<asio_adapter*>(p)->cleanup(); };
}

void asio_adapter::add_read() {
    want_read_ = true;
    arm_read();
}

void asio_adapter::add_write() {
    want_write_ = true;
    arm_write();
}

void asio_adapter::arm_read() {
    if (read_armed_ || dead_) return;
    read_armed_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](const error_code& ec) {
        self->read_armed_ = false;
        if (ec || self->dead_ || !self->want_read_) return;
        redisAsyncHandleRead(self->ac_);  // may free the context (cleanup → dead_)
        if (!self->dead_ && self->want_read_) self->arm_read();
    });
}

void asio_adapter::arm_write() {
    if (write_armed_ || dead_) return;
    write_armed_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](const error_code& ec) {
        self->write_armed_ = false;
        if (ec || self->dead_ || !self->want_write_) return;
        redisAsyncHandleWrite(self->ac_);
        if (!self->dead_ && self->want_write_) self->arm_write();
    });
}

void asio_adapter::cleanup() {
    dead_ = true;
    want_read_ = want_write_ = false;
    error_code ec;
    sd_.cancel(ec);
    sd_.release();  // hiredis closes the fd itself
    ac_->ev.data = nullptr;
    self_.reset();  // pending waits keep us alive until they complete
}

}  // namespace notifier::redis
