// UringFileSystem: the real disk behind io::FileSystem. File data goes through the reactor's
// ring (reads and writes, fixed-buffer variants, RWF_DSYNC writes, fdatasync, fallocate,
// ftruncate); syncfs on a thread of the file system's own (io/blocking_call_thread.h); directory
// operations are plain syscalls, because they happen at start-up, on
// segment rolls and on retention, never per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/blocking_call_thread.h"
#include "io/file.h"
#include "io/reactor.h"
#include "io/task.h"

namespace ringlog::io {

// One open file descriptor. Operations run on the reactor given at construction, which must
// outlive the file. Every failure is errno_to_status() with the path and what was attempted.
// For a file opened with `direct`, positions, lengths and buffer addresses must be multiples
// of limits::dma_alignment (asserted in debug builds; the kernel answers EINVAL otherwise).
// Operations after close() fail with kFailedPrecondition, as in SimFileSystem. If close() was
// never awaited, the destructor closes the descriptor synchronously.
class UringFile final : public File {
public:
    // `blocking` runs sync_file_system()'s syncfs(2), which io_uring has no operation for.
    UringFile(Reactor& reactor, BlockingCallThread& blocking, int fd, std::string path,
              bool direct);
    ~UringFile() override;

    UringFile(const UringFile&) = delete;
    UringFile& operator=(const UringFile&) = delete;

    [[nodiscard]] Task<absl::StatusOr<size_t>> write(uint64_t position,
                                                     std::span<const std::byte> data,
                                                     WriteOptions options = {}) override;
    [[nodiscard]] Task<absl::StatusOr<size_t>> read(uint64_t position, std::span<std::byte> buffer,
                                                    int fixed_index = -1) override;
    [[nodiscard]] Task<absl::Status> datasync() override;
    [[nodiscard]] Task<absl::Status> sync_file_system() override;
    [[nodiscard]] Task<absl::Status> allocate(uint64_t position, uint64_t length) override;
    [[nodiscard]] Task<absl::Status> truncate(uint64_t size) override;
    [[nodiscard]] absl::StatusOr<uint64_t> size() override;
    [[nodiscard]] Task<absl::Status> close() override;

    const std::string& path() const override { return path_; }

    // -1 once closed.
    int fd() const { return fd_; }

    bool direct() const { return direct_; }

private:
    void check_alignment(uint64_t position, size_t length, const std::byte* address) const;
    absl::Status closed_error() const;

    Reactor& reactor_;
    BlockingCallThread& blocking_;
    int fd_;
    std::string path_;
    bool direct_;
};

// Contract: open() creates files with mode 0644 and always O_CLOEXEC; with `direct`, a file
// system that refuses O_DIRECT gives kInvalidArgument "O_DIRECT not supported on <path>".
// Missing paths give kNotFound, existing ones with create + exclusive kAlreadyExists. The
// directory operations behave like SimFileSystem's: remove() takes a file or an empty
// directory, remove_all() of a missing path is kNotFound.
class UringFileSystem final : public FileSystem {
public:
    explicit UringFileSystem(Reactor& reactor) : reactor_(reactor) {}

    [[nodiscard]] Task<absl::StatusOr<std::unique_ptr<File>>> open(std::string path,
                                                                   OpenOptions options) override;
    [[nodiscard]] absl::Status make_dirs(const std::string& path) override;
    [[nodiscard]] absl::StatusOr<std::vector<std::string>> list_dir(
        const std::string& path) override;
    [[nodiscard]] absl::Status remove(const std::string& path) override;
    [[nodiscard]] absl::Status remove_all(const std::string& path) override;
    [[nodiscard]] absl::Status rename(const std::string& from, const std::string& to) override;
    [[nodiscard]] Task<absl::Status> sync_dir(std::string path) override;
    [[nodiscard]] bool exists(const std::string& path) override;
    [[nodiscard]] bool in_memory(const std::string& path) override;

private:
    Reactor& reactor_;  // outlives this file system and every file it opens
    // Outlives every file too: a file system outlives the files it opened.
    BlockingCallThread blocking_;
};

}  // namespace ringlog::io
