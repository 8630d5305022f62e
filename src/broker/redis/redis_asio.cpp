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
    arm(false);
}

void asio_adapter::add_write() {
    want_write_ = true;
    arm(true);
}

void asio_adapter::arm(bool write) {
    bool& armed = write ? write_armed_ : read_armed_;
    if (armed || dead_) return;
    armed = true;
    const auto what = write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read;
    sd_.async_wait(what, [self = shared_from_this(), write](const error_code& ec) {
        (write ? self->write_armed_ : self->read_armed_) = false;
        const bool& want = write ? self->want_write_ : self->want_read_;  // self keeps it alive
        if (ec || self->dead_ || !want) return;
        if (write) redisAsyncHandleWrite(self->ac_);
        else redisAsyncHandleRead(self->ac_);  // may free the context (cleanup → dead_)
        if (!self->dead_ && want) self->arm(write);
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
