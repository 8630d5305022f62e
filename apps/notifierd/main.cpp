// notifierd: the notifier hub as a standalone server.

#include <notifier/notifier.hpp>
#ifdef NOTIFIER_WITH_REDIS
#include <notifier/broker/redis_broker.hpp>
#endif

#include "config.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    int exit_code = 0;
    auto cfg = notifierd::parse_config(argc, argv, exit_code);
    if (!cfg) return exit_code;
    try {
        notifier::broker_factory broker;  // empty: in memory
        if (!cfg->redis_url.empty()) {
#ifdef NOTIFIER_WITH_REDIS
            auto ro = notifier::parse_redis_url(cfg->redis_url);
            ro.history_size = cfg->hub.history_size;
            broker = notifier::make_redis_broker(ro);
#else
            std::fprintf(stderr, "notifierd: built without Redis support\n");
            return 2;
#endif
        }
        notifier::hub hub(cfg->hub, broker);
        hub.listen();
        const auto& h = cfg->hub.listen_host;
        const bool v6 = h.find(':') != std::string::npos;
        std::printf("notifierd listening on http://%s%s%s:%u\n", v6 ? "[" : "", h.c_str(), v6 ? "]" : "", hub.port());
        std::fflush(stdout);
        hub.run();
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return 1;
    }
    std::printf("notifierd stopped\n");
    return 0;
}
