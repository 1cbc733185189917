// SimFileSystem: the in-memory FileSystem behind every simulated and fault test. Files keep
// what reads return ("written") apart from what survives a power loss ("durable"), and a seeded
// fault plan injects the errors a real disk returns, as the same Status codes the io_uring
// backend produces. It is not a performance model: every operation completes at once unless a
// yield hook is installed. Models: TigerBeetle src/testing/storage.zig, FoundationDB
// AsyncFileNonDurable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/file.h"
#include "io/task.h"

namespace ringlog::io {

// Faults to inject. Every random choice draws from the file system's seeded generator, so the
// same seed and the same sequence of calls give the same faults.
struct FaultPlan {
    // The write after this many more successful writes fails with EIO and changes nothing;
    // 0 fails the very next write. One-shot: it resets to -1 when it fires. -1 is off.
    int64_t fail_write_after = -1;
    // The same for datasync(). A failed datasync makes nothing durable (a real kernel may
    // also drop the dirty pages, so callers must treat a failed sync as fatal for the file).
    // A dsync write counts as a sync too: when its sync fails, its bytes reach the written
    // image (as the page cache or the device cache would hold them) but not the durable one,
    // and the write returns EIO.
    int64_t fail_sync_after = -1;
    // Capacity across all files, in bytes of file size (not rounded to blocks). A write,
    // allocate or truncate that would grow the total past it fails with ENOSPC and changes
    // nothing. -1 is unlimited.
    int64_t space_bytes = -1;
    // A write of at least 8192 bytes writes only a random non-zero multiple of 4096 bytes
    // less than asked (a short write), with this probability.
    double short_write_probability = 0.0;
    // A read fails with EIO with this probability (nothing is copied).
    double read_error_probability = 0.0;
};

enum class CrashMode {
    // Every file becomes exactly its durable image.
    drop_unsynced,
    // For every 4096-byte block written since its last sync, keep the new block or the old one
    // (a random choice each), and tear at most one block per file: a random prefix of the new
    // bytes followed by the old ones.
    tear_unsynced,
};

struct SimStats {
    uint64_t writes = 0;        // successful writes, short ones included
    uint64_t dsync_writes = 0;  // of which dsync ones
    uint64_t bytes_written = 0;
    uint64_t short_writes = 0;
    uint64_t reads = 0;
    uint64_t bytes_read = 0;
    uint64_t syncs = 0;  // successful datasyncs
    uint64_t dir_syncs = 0;
    uint64_t file_system_syncs = 0;  // successful sync_file_system() calls
    uint64_t write_errors = 0;       // injected EIO
    uint64_t sync_errors = 0;        // injected EIO
    uint64_t read_errors = 0;        // injected EIO
    uint64_t space_errors = 0;       // ENOSPC
    uint64_t crashes = 0;
};

// The durability model:
//  - File data: a write changes the written image; datasync() copies the written image, size
//    included, to the durable one; a dsync write copies its own range (the durable size grows
//    to cover it; a gap before it reads as zeros after a crash, as a hole would).
//    sync_file_system() (syncfs) does what datasync() does for every file and what sync_dir()
//    does for every directory, as one journal commit does on ext4 or XFS. The fault plan's
//    fail_sync_after counts it as a sync.
//  - File names: open(create), remove and rename change a directory's live entries;
//    sync_dir() makes that directory's live entries its durable ones. A crash puts every
//    directory back to its durable entries, so a created file whose directory was never synced
//    disappears and a removed one comes back. A file renamed between two directories needs
//    both synced.
//  - Directories themselves (make_dirs, removing a directory, remove_all, renaming a
//    directory) are durable at once. This is a deliberate simplification: the data tree is
//    made once at start-up, and modelling it would make every test sync parents of parents.
//
// Crash: every File handle becomes dead (each operation on it, close() included, returns
// kFailedPrecondition) and files and directories are rolled back as CrashMode says.
//
// O_DIRECT: for files opened with `direct`, a position, length or buffer address that is not
// a multiple of limits::dma_alignment fails with EINVAL, as the kernel does. Reads that reach
// the end of a file return short counts, like pread.
//
// Paths are plain strings; "a//b/./c" and "/a/b/c" name the same file and relative paths are
// taken from "/". Missing paths give kNotFound, like ENOENT.
//
// Single-threaded: one shard (or one test thread) uses a SimFileSystem. It must outlive every
// File it opened.
class SimFileSystem final : public FileSystem {
public:
    // Each operation first awaits the hook's task, if one is set, so a test with a reactor can
    // make operations suspend and interleave (for example, a hook returning reactor.yield()).
    using YieldHook = std::function<Task<void>()>;

    explicit SimFileSystem(uint64_t seed);
    ~SimFileSystem() override;

    SimFileSystem(const SimFileSystem&) = delete;
    SimFileSystem& operator=(const SimFileSystem&) = delete;

    // RINGLOG_SEED from the environment if set (to replay a failure), else `fallback`.
    static uint64_t seed_from_env(uint64_t fallback);

    uint64_t seed() const { return seed_; }

    void set_faults(FaultPlan plan) { faults_ = plan; }

    const FaultPlan& faults() const { return faults_; }

    // Lets space "return" after ENOSPC (or take it away); -1 is unlimited.
    void set_space_bytes(int64_t space_bytes) { faults_.space_bytes = space_bytes; }

    void set_yield(YieldHook hook) { yield_ = std::move(hook); }

    // Power loss: see the class comment.
    void crash(CrashMode mode);

    // Introspection for tests. Paths must name existing files (asserted).
    uint64_t durable_size(const std::string& path) const;
    std::vector<std::byte> written_bytes(const std::string& path) const;
    std::vector<std::byte> durable_bytes(const std::string& path) const;

    // The sum of the sizes of all files that exist or are still open.
    uint64_t allocated_bytes() const;

    const SimStats& stats() const { return stats_; }

    // FileSystem.
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
    // As set_in_memory() says; false (a device) unless a test sets it.
    [[nodiscard]] bool in_memory(const std::string& path) override;

    void set_in_memory(bool in_memory) { in_memory_ = in_memory; }

private:
    class SimFile;
    struct Inode;

    // A name in a directory: a file (its inode) or a subdirectory.
    struct Entry {
        bool directory = false;
        uint64_t inode = 0;

        bool operator==(const Entry&) const = default;
    };

    struct Directory {
        std::map<std::string, Entry> live;
        std::map<std::string, Entry> durable;
    };

    // File operations, run on behalf of a SimFile.
    Task<absl::StatusOr<size_t>> file_write(SimFile& file, uint64_t position,
                                            std::span<const std::byte> data, WriteOptions options);
    Task<absl::StatusOr<size_t>> file_read(SimFile& file, uint64_t position,
                                           std::span<std::byte> buffer);
    Task<absl::Status> file_datasync(SimFile& file);
    Task<absl::Status> file_sync_file_system(SimFile& file);
    void make_durable(Inode& inode);
    Task<absl::Status> file_allocate(SimFile& file, uint64_t position, uint64_t length);
    Task<absl::Status> file_truncate(SimFile& file, uint64_t size);
    Task<absl::Status> file_close(SimFile& file);
    absl::Status check_usable(const SimFile& file) const;
    // check_usable(), then the fault plan's fail_sync_after (EIO naming `what` and the path).
    absl::Status check_sync(const SimFile& file, const char* what);
    void release(SimFile& file);

    // Resizes a file's written image (zero-filling growth) and marks the changed blocks.
    void resize_written(Inode& inode, uint64_t size);
    bool fits(uint64_t growth) const;
    bool block_differs(const Inode& inode, uint64_t block) const;
    void mark_dirty(Inode& inode, uint64_t begin, uint64_t end);
    std::vector<std::byte> torn_image(const Inode& inode);

    // Namespace helpers. `canonical` paths start with '/' and have no empty, "." or ".."
    // components; the root is "/".
    static std::string canonical(const std::string& path);
    static std::string parent_of(const std::string& canonical_path);
    static std::string name_of(const std::string& canonical_path);
    static std::string child_of(const std::string& directory, const std::string& name);
    const Entry* find(const std::string& canonical_path) const;
    const Inode& inode_at(const std::string& path) const;
    void remove_tree(const std::string& canonical_path);
    void collect_garbage();

    uint64_t random_below(uint64_t bound);
    bool chance(double probability);

    uint64_t seed_;
    std::mt19937_64 random_;
    FaultPlan faults_;
    SimStats stats_;
    bool in_memory_ = false;
    YieldHook yield_;

    std::map<std::string, Directory> directories_;
    std::map<uint64_t, std::unique_ptr<Inode>> inodes_;
    uint64_t next_inode_ = 1;
    // Bumped by crash(): handles from an older generation are dead.
    uint64_t generation_ = 0;
};

}  // namespace ringlog::io
