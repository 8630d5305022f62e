// SPDX-License-Identifier: MIT
#pragma once
// The forum's REST API, served on the hub's port through options.app_routes:
//   GET/POST /api/forums, GET/PUT/DELETE /api/forums/{id}
//   GET/POST /api/posts[?forum_id=N], GET/PUT/DELETE /api/posts/{id}
// Handlers only read and write SQLite; notifications come from the change
// capture, which sees every commit (these and anyone else's).

#include "forum_store.hpp"
#include "worker.hpp"

#include <notifier/http_route.hpp>

#include <functional>
#include <memory>
#include <string>

namespace forum {

class rest_api {
public:
    /// Opens (creating on first run) the database. `after_write` runs on the
    /// worker after each committed change: the capture's wake(), so changes
    /// go out without waiting for its next poll.
    rest_api(const std::string& db_path, std::function<void()> after_write);
    ~rest_api();
    rest_api(const rest_api&) = delete;
    rest_api& operator=(const rest_api&) = delete;

    /// For options.app_routes: takes /api and everything under it, declines
    /// the rest (static files). Runs on the hub's loop; the work itself runs
    /// on the API's worker thread.
    notifier::http_handler handler();

    /// Answers one request synchronously (the worker calls it; tests may too).
    notifier::http_response handle(const notifier::http_request& req);

    /// Stops the worker; requests still waiting get no answer (the hub is
    /// stopping too). Call before the hub is destroyed.
    void stop();

private:
    notifier::http_response forums(const notifier::http_request& req, const std::string* id);
    notifier::http_response posts(const notifier::http_request& req, const std::string* id);

    forum_store store_;
    std::function<void()> after_write_;
    worker worker_;
};

}  // namespace forum
