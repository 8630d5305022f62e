// SPDX-License-Identifier: MIT
#pragma once
// The forum's data on embedded SQLite: forums and their posts. Used by the
// API's worker thread only (one connection, one thread).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace forum {

struct forum_row {
    std::int64_t id = 0;
    std::string name;
};

struct post_row {
    std::int64_t id = 0;
    std::int64_t forum_id = 0;
    std::string title;
    std::string body;
};

class forum_store {
public:
    /// Opens (creating on first run) the database and its schema; throws
    /// std::runtime_error on failure.
    explicit forum_store(const std::string& path);
    ~forum_store();
    forum_store(const forum_store&) = delete;
    forum_store& operator=(const forum_store&) = delete;

    std::vector<forum_row> list_forums();
    std::optional<forum_row> find_forum(std::int64_t id);
    forum_row create_forum(const std::string& name);
    /// nullopt: no such forum.
    std::optional<forum_row> update_forum(std::int64_t id, const std::string& name);
    /// Deletes the forum and (by cascade) its posts; false: no such forum.
    bool delete_forum(std::int64_t id);

    std::vector<post_row> list_posts(std::optional<std::int64_t> forum_id);
    std::optional<post_row> find_post(std::int64_t id);
    /// nullopt: the forum does not exist.
    std::optional<post_row> create_post(const post_row& p);
    /// nullopt: no such post, or no such forum (find_post() tells which).
    std::optional<post_row> update_post(const post_row& p);
    bool delete_post(std::int64_t id);

private:
    sqlite3* db_ = nullptr;
};

}  // namespace forum
