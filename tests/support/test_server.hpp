// SPDX-License-Identifier: MIT
#pragma once
// A real hub on 127.0.0.1:0 with its loop on a thread, for integration tests.

#include <notifier/notifier.hpp>

#include <memory>

namespace notifier::test {

class test_server {
public:
    explicit test_server(options o = {}) {
        o.listen_host = "127.0.0.1";
        o.listen_port = 0;
        hub_ = std::make_unique<hub>(std::move(o));
        hub_->start();
    }
    ~test_server() { hub_->stop(); }

    hub& get() { return *hub_; }
    std::uint16_t port() const { return hub_->port(); }
    notifier make_notifier() { return notifier(*hub_); }
    void stop() { hub_->stop(); }

private:
    std::unique_ptr<hub> hub_;
};

}  // namespace notifier::test
