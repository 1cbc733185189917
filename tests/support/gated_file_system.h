// A file system seam for tests of what goes on while one operation waits for a slow disk: opens
// of the paths a predicate picks suspend until release(); everything else passes straight
// through to the file system underneath.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/event.h"
#include "io/file.h"

namespace ringlog::testing {

class GatedFileSystem final : public io::FileSystem {
public:
    GatedFileSystem(io::FileSystem& inner, std::function<bool(const std::string&)> gated)
        : inner_(inner), gated_(std::move(gated)) {}

    // Opens held so far go on, and later ones are no longer held.
    void release() {
        held_ = false;
        released_.notify_all();
    }

    // How many opens are waiting at the gate now.
    int waiting() const { return waiting_; }

    io::Task<absl::StatusOr<std::unique_ptr<io::File>>> open(std::string path,
                                                             io::OpenOptions options) override {
        if (held_ && gated_(path)) {
            ++waiting_;
            while (held_) {
                co_await released_.wait();
            }
            --waiting_;
        }
        co_return co_await inner_.open(std::move(path), options);
    }

    absl::Status make_dirs(const std::string& path) override { return inner_.make_dirs(path); }

    absl::StatusOr<std::vector<std::string>> list_dir(const std::string& path) override {
        return inner_.list_dir(path);
    }

    absl::Status remove(const std::string& path) override { return inner_.remove(path); }

    absl::Status remove_all(const std::string& path) override { return inner_.remove_all(path); }

    absl::Status rename(const std::string& from, const std::string& to) override {
        return inner_.rename(from, to);
    }

    io::Task<absl::Status> sync_dir(std::string path) override {
        co_return co_await inner_.sync_dir(std::move(path));
    }

    bool exists(const std::string& path) override { return inner_.exists(path); }

    bool in_memory(const std::string& path) override { return inner_.in_memory(path); }

private:
    io::FileSystem& inner_;
    std::function<bool(const std::string&)> gated_;
    bool held_ = true;
    int waiting_ = 0;
    io::Notify released_;
};

}  // namespace ringlog::testing
