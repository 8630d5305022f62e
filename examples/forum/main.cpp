// SPDX-License-Identifier: MIT
// notifier-forum: the forum demo. A REST API on SQLite, the change capture
// that turns every commit into a notification, the hub that sends them to
// the browsers, and the single-page app, all on one port.

#include "forum_options.hpp"
#include "rest_api.hpp"

#include <notifier/notifier.hpp>
#include <notifier/source/sqlite_source.hpp>

#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>

int main(int argc, char** argv) {
    int exit_code = 0;
    auto cfg = forum::parse_options(argc, argv, exit_code);
    if (!cfg) return exit_code;
    try {
        if (const auto parent = std::filesystem::path(cfg->db_path).parent_path(); !parent.empty())
            std::filesystem::create_directories(parent);
        if (!std::filesystem::is_regular_file(std::filesystem::path(cfg->static_dir) / "index.html"))
            std::fprintf(stderr, "notifier-forum: warning: no index.html in --static-dir \"%s\"\n",
                         cfg->static_dir.c_str());

        // Set once the capture runs; the API's worker reads it after commits.
        std::atomic<notifier::sqlite_source*> capture{nullptr};
        forum::rest_api api(cfg->db_path, [&capture] {
            if (auto* c = capture.load()) c->wake();
        });

        auto opts = forum::hub_options(*cfg, api.handler());
        opts.handle_signals = true;
        notifier::hub hub(opts);

        notifier::sqlite_source_options src;
        src.path = cfg->db_path;
        src.poll_interval = cfg->poll_interval;
        src.tables = {{"forums", "forums", "id", {"name"}},
                      {"posts", "posts", "id", {"forum_id", "title", "body"}}};
        notifier::sqlite_source source(notifier::notifier(hub), src);

        hub.listen();
        source.start();
        capture = &source;
        // Unregistered (by its destructor) before the source it reads goes.
        const auto capture_metrics = hub.add_source_metrics("sqlite", [&source] {
            const auto s = source.stats();
            return notifier::source_metrics{s.connected, s.changes, s.errors, s.lag_ms / 1000.0};
        });
        std::printf("notifier-forum listening on %s://%s:%u (database %s)\n", hub.tls() ? "https" : "http",
                    opts.listen_host.c_str(), hub.port(), cfg->db_path.c_str());
        std::fflush(stdout);
        hub.run();  // until SIGINT/SIGTERM
        // The worker answers through the hub: stop it before the hub goes.
        api.stop();
        capture = nullptr;
        source.stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "notifier-forum: %s\n", e.what());
        return 1;
    }
    std::printf("notifier-forum stopped\n");
    return 0;
}
