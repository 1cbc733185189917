// The seam between storage code and the kernel. core/ opens, writes, reads and syncs files
// only through these interfaces; io/uring_file_system.h implements them with io_uring and
// O_DIRECT, io/sim_file_system.h in memory with injected faults and crashes. One virtual call
// per operation (never per record) is the price of being able to test every failure.
//
// Positions, lengths and memory passed to a file opened with `direct` must be aligned to
// limits::dma_alignment. A buffer passed to an operation must stay alive and unchanged until
// the returned task completes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/task.h"

namespace ringlog::io {

struct OpenOptions {
    bool create = false;     // create the file if it does not exist
    bool exclusive = false;  // with create: fail with kAlreadyExists if it exists
    bool read_only = false;
    bool direct = true;  // O_DIRECT: bypass the page cache
};

struct WriteOptions {
    // RWF_DSYNC: the write completes only when its data (and the metadata needed to read it)
    // is on stable storage, like write + fdatasync in one operation.
    bool dsync = false;
    // Index of the fixed (registered) buffer holding the bytes, or -1.
    int fixed_index = -1;
};

class File {
public:
    virtual ~File() = default;

    // Returns the number of bytes written, which may be fewer than asked (a short write);
    // callers use write_all() unless they handle that themselves.
    [[nodiscard]] virtual Task<absl::StatusOr<size_t>> write(uint64_t position,
                                                             std::span<const std::byte> data,
                                                             WriteOptions options = {}) = 0;

    // Returns the number of bytes read; fewer than asked only at the end of the file.
    [[nodiscard]] virtual Task<absl::StatusOr<size_t>> read(uint64_t position,
                                                            std::span<std::byte> buffer,
                                                            int fixed_index = -1) = 0;

    // fdatasync: everything written before this call is on stable storage when it completes.
    [[nodiscard]] virtual Task<absl::Status> datasync() = 0;

    // syncfs(2) of the file system holding this file: everything written before this call to
    // any of its files, and every name created, removed or renamed on it, is on stable storage
    // when it completes. One device flush for many files, where a datasync() per file costs a
    // flush each (core/group_sync.h groups a shard's syncs into one of these). It also writes
    // back whatever else is dirty on that file system, other programs' files included.
    [[nodiscard]] virtual Task<absl::Status> sync_file_system() = 0;

    // fallocate(mode 0): reserve blocks for [position, position + length), growing the file.
    [[nodiscard]] virtual Task<absl::Status> allocate(uint64_t position, uint64_t length) = 0;

    // ftruncate: the file's size becomes `size`; bytes past it are gone.
    [[nodiscard]] virtual Task<absl::Status> truncate(uint64_t size) = 0;

    // The file's current size in bytes.
    [[nodiscard]] virtual absl::StatusOr<uint64_t> size() = 0;

    [[nodiscard]] virtual Task<absl::Status> close() = 0;

    virtual const std::string& path() const = 0;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;

    [[nodiscard]] virtual Task<absl::StatusOr<std::unique_ptr<File>>> open(std::string path,
                                                                           OpenOptions options) = 0;

    // mkdir -p; succeeds if the folder exists.
    [[nodiscard]] virtual absl::Status make_dirs(const std::string& path) = 0;

    // Names (not paths) of the entries in a folder, sorted, without "." and "..".
    [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> list_dir(
        const std::string& path) = 0;

    [[nodiscard]] virtual absl::Status remove(const std::string& path) = 0;

    // Removes a folder and everything in it.
    [[nodiscard]] virtual absl::Status remove_all(const std::string& path) = 0;

    [[nodiscard]] virtual absl::Status rename(const std::string& from, const std::string& to) = 0;

    // Makes the folder's entries (created, removed, renamed files) durable. A Task because it
    // waits for the disk: a shard must not stop serving while a folder's fsync runs.
    [[nodiscard]] virtual Task<absl::Status> sync_dir(std::string path) = 0;

    [[nodiscard]] virtual bool exists(const std::string& path) = 0;

    // Whether files under `path` are kept in memory (tmpfs, ramfs) rather than on a device.
    // There, zero-filling ahead of an appender buys nothing (no unwritten extents to convert,
    // no journal commit to spare) and costs a CPU copy of every zero and the memory it fills.
    [[nodiscard]] virtual bool in_memory(const std::string& path) = 0;
};

// Writes all of `data`, resubmitting after short writes. For direct files a short write may end
// mid-block; the retry restarts at the block boundary below it, which is why the whole block
// must still be in `data`'s memory (it is: we only write from our own aligned buffers).
[[nodiscard]] Task<absl::Status> write_all(File& file, uint64_t position,
                                           std::span<const std::byte> data,
                                           WriteOptions options = {});

// Reads exactly data.size() bytes unless the file ends first; returns the count read.
[[nodiscard]] Task<absl::StatusOr<size_t>> read_all(File& file, uint64_t position,
                                                    std::span<std::byte> buffer,
                                                    int fixed_index = -1);

// A small file read whole through the page cache (not O_DIRECT): indexes, config.
[[nodiscard]] Task<absl::StatusOr<std::vector<std::byte>>> read_whole_file(FileSystem& fs,
                                                                           std::string path);

// Replaces a small file's contents (created if missing) and syncs them before completing.
[[nodiscard]] Task<absl::Status> write_whole_file(FileSystem& fs, std::string path,
                                                  std::vector<std::byte> bytes);

}  // namespace ringlog::io
