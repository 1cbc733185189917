// UringFile's operations as io_uring SQEs, and UringFileSystem's directory operations as plain
// syscalls (slow path). Every errno passes through errno_to_status with the path in context.
#include "io/uring_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"
#include "io/base/limits.h"
#include "io/liburing_compat.h"

namespace ringlog::io {

namespace {

// An SQE's length is 32 bits and the kernel moves at most INT_MAX & PAGE_MASK bytes per call
// anyway; a larger request becomes a short read or write, which callers already handle.
constexpr size_t op_bytes_max = size_t{1} << 30;

unsigned op_length(size_t length) {
    return static_cast<unsigned>(std::min(length, op_bytes_max));
}

// A syscall's result in the ring's convention: the value, or -errno.
int syscall_result(int result) {
    return result < 0 ? -errno : result;
}

}  // namespace

UringFile::UringFile(Reactor& reactor, BlockingCallThread& blocking, int fd, std::string path,
                     bool direct)
    : reactor_(reactor), blocking_(blocking), fd_(fd), path_(std::move(path)), direct_(direct) {
    RL_ASSERT(fd_ >= 0);
}

UringFile::~UringFile() {
    if (fd_ >= 0) {
        ::close(fd_);  // nobody awaited close(): nobody can learn of an error either
    }
}

void UringFile::check_alignment(uint64_t position, size_t length, const std::byte* address) const {
    if (!direct_) {
        return;
    }
    RL_DASSERT(position % limits::dma_alignment == 0, "%s: O_DIRECT position %d", path_, position);
    RL_DASSERT(length % limits::dma_alignment == 0, "%s: O_DIRECT length %d", path_, length);
    RL_DASSERT(reinterpret_cast<uintptr_t>(address) % limits::dma_alignment == 0,
               "%s: O_DIRECT buffer address %p", path_, static_cast<const void*>(address));
    (void)position;
    (void)length;
    (void)address;
}

absl::Status UringFile::closed_error() const {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": file is closed"));
}

Task<absl::StatusOr<size_t>> UringFile::write(uint64_t position, std::span<const std::byte> data,
                                              WriteOptions options) {
    if (fd_ < 0) {
        co_return closed_error();
    }
    check_alignment(position, data.size(), data.data());
    const unsigned length = op_length(data.size());
    const int result = co_await reactor_.op([&](io_uring_sqe* sqe) {
        if (options.fixed_index >= 0) {
            io_uring_prep_write_fixed(sqe, fd_, data.data(), length, position, options.fixed_index);
        } else {
            io_uring_prep_write(sqe, fd_, data.data(), length, position);
        }
        if (options.dsync) {
            sqe->rw_flags = RWF_DSYNC;
        }
    });
    if (result < 0) {
        co_return errno_to_status(
            -result, absl::StrCat("write ", length, " bytes at ", position, " to ", path_));
    }
    co_return static_cast<size_t>(result);
}

Task<absl::StatusOr<size_t>> UringFile::read(uint64_t position, std::span<std::byte> buffer,
                                             int fixed_index) {
    if (fd_ < 0) {
        co_return closed_error();
    }
    check_alignment(position, buffer.size(), buffer.data());
    const unsigned length = op_length(buffer.size());
    const int result = co_await reactor_.op([&](io_uring_sqe* sqe) {
        if (fixed_index >= 0) {
            io_uring_prep_read_fixed(sqe, fd_, buffer.data(), length, position, fixed_index);
        } else {
            io_uring_prep_read(sqe, fd_, buffer.data(), length, position);
        }
    });
    if (result < 0) {
        co_return errno_to_status(
            -result, absl::StrCat("read ", length, " bytes at ", position, " from ", path_));
    }
    co_return static_cast<size_t>(result);
}

Task<absl::Status> UringFile::datasync() {
    if (fd_ < 0) {
        co_return closed_error();
    }
    const int result = co_await reactor_.op(
        [&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC); });
    if (result < 0) {
        co_return errno_to_status(-result, absl::StrCat("fdatasync ", path_));
    }
    co_return absl::OkStatus();
}

Task<absl::Status> UringFile::sync_file_system() {
    if (fd_ < 0) {
        co_return closed_error();
    }
    // syncfs reports write-back errors of the file system since this descriptor last asked
    // (since Linux 5.8), so the descriptor must be one kept open, as this file's is.
    const int fd = fd_;
    const int result =
        co_await blocking_.run(reactor_, [fd] { return syscall_result(::syncfs(fd)); });
    if (result < 0) {
        co_return errno_to_status(-result, absl::StrCat("syncfs of the file system of ", path_));
    }
    co_return absl::OkStatus();
}

Task<absl::Status> UringFile::allocate(uint64_t position, uint64_t length) {
    if (fd_ < 0) {
        co_return closed_error();
    }
    // liburing 2.3's argument order is (sqe, fd, mode, offset, len): it puts len in sqe->addr
    // and mode in sqe->len, which is what the kernel's io_fallocate_prep reads.
    const int result = co_await reactor_.op([&](io_uring_sqe* sqe) {
        io_uring_prep_fallocate(sqe, fd_, 0, static_cast<off_t>(position),
                                static_cast<off_t>(length));
    });
    if (result < 0) {
        co_return errno_to_status(
            -result, absl::StrCat("fallocate ", length, " bytes at ", position, " in ", path_));
    }
    co_return absl::OkStatus();
}

Task<absl::Status> UringFile::truncate(uint64_t size) {
    if (fd_ < 0) {
        co_return closed_error();
    }
    int result;
    if (reactor_.supports(compat::op_ftruncate)) {
        result = co_await reactor_.op(
            [&](io_uring_sqe* sqe) { compat::prep_ftruncate(sqe, fd_, size); });
    } else {
        result = syscall_result(::ftruncate(fd_, static_cast<off_t>(size)));
    }
    if (result < 0) {
        co_return errno_to_status(-result, absl::StrCat("truncate ", path_, " to ", size));
    }
    co_return absl::OkStatus();
}

absl::StatusOr<uint64_t> UringFile::size() {
    if (fd_ < 0) {
        return closed_error();
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
        return errno_to_status(errno, absl::StrCat("fstat ", path_));
    }
    return static_cast<uint64_t>(st.st_size);
}

Task<absl::Status> UringFile::close() {
    if (fd_ < 0) {
        co_return closed_error();
    }
    // The descriptor is gone whatever close reports (close(2): never retry), so forget it now
    // and the destructor will not close it again.
    const int fd = std::exchange(fd_, -1);
    int result;
    if (reactor_.supports(IORING_OP_CLOSE)) {
        result = co_await reactor_.op([fd](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
    } else {
        result = syscall_result(::close(fd));
    }
    if (result < 0) {
        co_return errno_to_status(-result, absl::StrCat("close ", path_));
    }
    co_return absl::OkStatus();
}

Task<absl::StatusOr<std::unique_ptr<File>>> UringFileSystem::open(std::string path,
                                                                  OpenOptions options) {
    int flags = O_CLOEXEC | (options.read_only ? O_RDONLY : O_RDWR);
    if (options.create) {
        flags |= O_CREAT;
        if (options.exclusive) {
            flags |= O_EXCL;
        }
    }
    if (options.direct) {
        flags |= O_DIRECT;
    }
    constexpr mode_t mode = 0644;
    int fd;
    if (reactor_.supports(IORING_OP_OPENAT)) {
        fd = co_await reactor_.op([&](io_uring_sqe* sqe) {
            io_uring_prep_openat(sqe, AT_FDCWD, path.c_str(), flags, mode);
        });
    } else {
        fd = syscall_result(::open(path.c_str(), flags, mode));
    }
    if (fd == -EINVAL && options.direct) {
        // open(2): EINVAL "The filesystem does not support the O_DIRECT flag" (tmpfs before
        // Linux 6.6, some FUSE and network file systems).
        co_return errno_to_status(EINVAL, absl::StrCat("O_DIRECT not supported on ", path));
    }
    if (fd < 0) {
        co_return errno_to_status(-fd, absl::StrCat("open ", path));
    }
    const bool direct = options.direct;
    co_return std::make_unique<UringFile>(reactor_, blocking_, fd, std::move(path), direct);
}

absl::Status UringFileSystem::make_dirs(const std::string& path) {
    if (path.empty()) {
        return errno_to_status(ENOENT, "make directories of an empty path");
    }
    // mkdir each prefix ending before a '/', then the whole path: "a/b/c" -> a, a/b, a/b/c.
    for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
        const bool last = end == std::string::npos;
        const std::string prefix = last ? path : path.substr(0, end);
        if (!prefix.empty() && prefix.back() != '/' && ::mkdir(prefix.c_str(), 0755) != 0) {
            const int err = errno;
            struct stat st;
            if (err != EEXIST || ::stat(prefix.c_str(), &st) != 0) {
                return errno_to_status(err, absl::StrCat("make directories ", path));
            }
            if (!S_ISDIR(st.st_mode)) {
                return errno_to_status(last ? EEXIST : ENOTDIR,
                                       absl::StrCat("make directories ", path));
            }
        }
        if (last) {
            return absl::OkStatus();
        }
    }
}

absl::StatusOr<std::vector<std::string>> UringFileSystem::list_dir(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        return errno_to_status(errno, absl::StrCat("list ", path));
    }
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(dir);
        if (entry == nullptr) {
            break;
        }
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) {
        return errno_to_status(err, absl::StrCat("list ", path));
    }
    std::sort(names.begin(), names.end());
    return names;
}

absl::Status UringFileSystem::remove(const std::string& path) {
    if (::unlink(path.c_str()) == 0) {
        return absl::OkStatus();
    }
    int err = errno;
    if (err == EISDIR) {  // Linux's unlink(2) on a directory
        err = ::rmdir(path.c_str()) == 0 ? 0 : errno;
    }
    return err == 0 ? absl::OkStatus() : errno_to_status(err, absl::StrCat("remove ", path));
}

namespace {

// rm -r without following symbolic links; returns 0 or an errno.
int remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
        return errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        return ::unlink(path.c_str()) == 0 ? 0 : errno;
    }
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        return errno;
    }
    std::vector<std::string> children;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            children.push_back(absl::StrCat(path, "/", entry->d_name));
        }
    }
    ::closedir(dir);
    for (const std::string& child : children) {
        if (const int err = remove_tree(child); err != 0 && err != ENOENT) {
            return err;
        }
    }
    return ::rmdir(path.c_str()) == 0 ? 0 : errno;
}

}  // namespace

absl::Status UringFileSystem::remove_all(const std::string& path) {
    if (const int err = remove_tree(path); err != 0) {
        return errno_to_status(err, absl::StrCat("remove all of ", path));
    }
    return absl::OkStatus();
}

absl::Status UringFileSystem::rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return errno_to_status(errno, absl::StrCat("rename ", from, " to ", to));
    }
    return absl::OkStatus();
}

Task<absl::Status> UringFileSystem::sync_dir(std::string path) {
    // Opening a folder reads only cached metadata; the fsync is what waits for the disk, so it
    // goes through the ring (io-wq runs it) instead of blocking the shard's thread.
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        co_return errno_to_status(errno, absl::StrCat("open directory ", path));
    }
    const int result =
        co_await reactor_.op([&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, 0); });
    ::close(fd);
    if (result < 0) {
        co_return errno_to_status(-result, absl::StrCat("sync directory ", path));
    }
    co_return absl::OkStatus();
}

bool UringFileSystem::exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

bool UringFileSystem::in_memory(const std::string& path) {
    struct statfs fs;
    if (::statfs(path.c_str(), &fs) != 0) {
        return false;  // unknown: treated as a device, where zero-filling is what helps
    }
    return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

}  // namespace ringlog::io
