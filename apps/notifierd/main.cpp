// notifierd: the notifier hub as a standalone server.

#include <notifier/notifier.hpp>

#include "config.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    int exit_code = 0;
    auto opts = notifierd::parse_config(argc, argv, exit_code);
    if (!opts) return exit_code;
    try {
        notifier::hub hub(*opts);
        hub.listen();
        std::printf("notifierd listening on http://%s:%u\n", opts->listen_host.c_str(), hub.port());
        std::fflush(stdout);
        hub.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "notifierd: %s\n", e.what());
        return 1;
    }
    std::printf("notifierd stopped\n");
    return 0;
}
