// SPDX-License-Identifier: MIT
// An application embedding the installed library: a hub on 127.0.0.1:0,
// notify() from the application, the SQLite capture of its own database,
// and the hub's HTTP side (POST /publish, GET /metrics) over a plain socket.
// Prints "ok <version>" and exits 0 when everything did what it should.
#include <notifier/notifier.hpp>
#include <notifier/source/sqlite_source.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "consumer: FAILED: %s\n", what);
        ++failures;
    }
}

// One HTTP/1.1 request with Connection: close; the whole answer.
std::string http(std::uint16_t port, const std::string& request) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        send(fd, request.data(), request.size(), 0) == ssize_t(request.size())) {
        char buf[65536];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, std::size_t(n));
    }
    close(fd);
    return out;
}

// Deadlines, not delays: generous, since ctest may run this next to the
// heaviest tests on a loaded machine, and they cost nothing when all is well.
constexpr std::chrono::seconds deadline{60};

bool wait_for_published(notifier::hub& h, std::uint64_t n) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (h.stats().published < n) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer DATABASE-FILE\n");
        return 2;
    }
    const std::string db_path = argv[1];
    std::remove(db_path.c_str());
    sqlite3* db = nullptr;
    check(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK, "open the database");
    // The capture reads the same file from its own thread (and writes its
    // position there): without a busy timeout, a write that meets one of its
    // read transactions fails at once with SQLITE_BUSY instead of waiting.
    // Any application sharing its database with sqlite_source needs this.
    sqlite3_busy_timeout(db, static_cast<int>(std::chrono::milliseconds(deadline).count()));
    check(sqlite3_exec(db, "CREATE TABLE forums (id INTEGER PRIMARY KEY, name TEXT)", nullptr, nullptr, nullptr) ==
              SQLITE_OK,
          "create a table");

    notifier::options o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    notifier::hub hub(o);
    hub.start();
    const auto port = hub.port();
    check(port != 0, "the hub listens");

    notifier::notifier n(hub);
    check(!n.notify("forums", "create", "1", R"json({"name":"from notify()"})json"), "notify() accepts");
    check(n.notify("bad name!", "create") == notifier::errc::invalid_collection, "notify() refuses a bad name");
    check(wait_for_published(hub, 1), "notify() is published");

    const std::string body = R"({"collection":"forums","action":"update","id":"1"})";
    const auto published = http(port, "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                      "Connection: close\r\nContent-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body);
    check(published.rfind("HTTP/1.1 202", 0) == 0, "POST /publish answers 202");

    notifier::sqlite_source_options so;
    so.path = db_path;
    so.tables = {{"forums", "", "", {"name"}}};
    notifier::sqlite_source capture(notifier::notifier(hub), so);
    capture.start();
    const int inserted =
        sqlite3_exec(db, "INSERT INTO forums (name) VALUES ('from SQLite')", nullptr, nullptr, nullptr);
    if (inserted != SQLITE_OK) std::fprintf(stderr, "consumer: insert: %s\n", sqlite3_errmsg(db));
    check(inserted == SQLITE_OK, "insert a row");
    check(capture.sync(deadline), "the capture catches up");
    check(wait_for_published(hub, 3), "the row is published");
    check(capture.stats().changes == 1, "the capture counted one change");

    const auto metrics = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    check(metrics.find("\nnotifier_published_total 3\n") != std::string::npos, "/metrics counts 3 publications");

    capture.stop();
    hub.stop();
    sqlite3_close(db);
    if (failures) return 1;
    std::printf("ok %s\n", notifier::version_string);
    return 0;
}
