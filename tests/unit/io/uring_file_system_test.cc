// UringFileSystem on a real directory under /tmp (or the build tree when /tmp refuses
// O_DIRECT): direct and buffered round trips, with and without fixed buffers from a registered
// pool, dsync writes, datasync, allocate, truncate, short reads at the end of a file, the
// directory operations, and the Status codes of the usual failures.
#include "io/uring_file_system.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/base/limits.h"
#include "io/buffer.h"
#include "io/reactor.h"
#include "io/task_group.h"

namespace ringlog::io {
namespace {

constexpr size_t block = limits::dma_alignment;

// <folder of the test binary>/tmp: inside the build tree, for when /tmp refuses O_DIRECT.
std::string build_tmp() {
    char exe[4096];
    const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (length <= 0) {
        return "tmp";
    }
    std::string path(exe, static_cast<size_t>(length));
    return path.substr(0, path.rfind('/')) + "/tmp";
}

// A fresh directory that accepts O_DIRECT, removed at the end.
std::string make_temp_dir() {
    for (const std::string& base : {std::string("/tmp"), build_tmp()}) {
        ::mkdir(base.c_str(), 0755);
        std::string pattern = base + "/ringlog-io-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            continue;
        }
        const std::string probe = pattern + "/probe";
        const int fd = ::open(probe.c_str(), O_CREAT | O_RDWR | O_DIRECT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::close(fd);
            ::unlink(probe.c_str());
            return pattern;
        }
        ::rmdir(pattern.c_str());
    }
    return {};
}

BufferRef filled(size_t size, uint8_t seed) {
    BufferRef buffer = BufferRef::allocate(size);
    for (size_t i = 0; i < buffer->size(); ++i) {
        buffer->data()[i] = std::byte(static_cast<uint8_t>(seed + i * 7 + i / 4096));
    }
    return buffer;
}

class UringFileSystemTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = make_temp_dir();
        ASSERT_FALSE(dir_.empty()) << "no directory accepts O_DIRECT";
    }

    void TearDown() override {
        if (!dir_.empty()) {
            EXPECT_TRUE(fs_.remove_all(dir_).ok());
        }
    }

    template <typename T>
    T run(Task<T> task) {
        return reactor_->block_on(std::move(task));
    }

    std::unique_ptr<File> open(const std::string& name, OpenOptions options = {.create = true}) {
        auto file = run(fs_.open(path(name), options));
        EXPECT_TRUE(file.ok()) << file.status();
        return file.ok() ? *std::move(file) : nullptr;
    }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    std::unique_ptr<Reactor> reactor_ = [] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        return *std::move(reactor);
    }();
    UringFileSystem fs_{*reactor_};
    std::string dir_;
};

TEST_F(UringFileSystemTest, DirectWriteReadsBack) {
    auto file = open("a.log");
    BufferRef data = filled(3 * block, 1);
    ASSERT_TRUE(run(write_all(*file, block, data->span())).ok());
    EXPECT_EQ(*file->size(), 4 * block);
    BufferRef back = BufferRef::allocate(3 * block);
    auto count = run(read_all(*file, block, back->span()));
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, 3 * block);
    EXPECT_EQ(std::memcmp(back->data(), data->data(), 3 * block), 0);
    EXPECT_TRUE(run(file->close()).ok());
}

TEST_F(UringFileSystemTest, FixedBufferWriteReadsBack) {
    BufferPool pool(2 * block, 2);
    ASSERT_TRUE(reactor_->register_buffers(pool).ok());
    BufferRef out = pool.try_get();
    BufferRef in = pool.try_get();
    ASSERT_GE(out->fixed_index(), 0);
    for (size_t i = 0; i < out->size(); ++i) {
        out->data()[i] = std::byte(static_cast<uint8_t>(i * 13));
    }
    auto file = open("fixed.log");
    auto written =
        run(file->write(0, out->span(), WriteOptions{.fixed_index = out->fixed_index()}));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, 2 * block);
    // A fixed read may target part of the registered buffer.
    auto read = run(file->read(block, in->span().subspan(block), in->fixed_index()));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, block);
    EXPECT_EQ(std::memcmp(in->data() + block, out->data() + block, block), 0);
    EXPECT_TRUE(run(file->close()).ok());
}

TEST_F(UringFileSystemTest, DsyncWriteAndDatasyncSucceed) {
    auto file = open("sync.log");
    BufferRef data = filled(block, 9);
    auto written = run(file->write(0, data->span(), WriteOptions{.dsync = true}));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, block);
    EXPECT_TRUE(run(file->datasync()).ok());
    BufferRef back = BufferRef::allocate(block);
    EXPECT_EQ(*run(file->read(0, back->span())), block);
    EXPECT_EQ(std::memcmp(back->data(), data->data(), block), 0);
}

// syncfs runs on the file system's own thread while the ring goes on; several calls from one
// reactor at once each complete with the syscall's answer.
TEST_F(UringFileSystemTest, SyncFileSystemRunsOffTheReactorAndReportsErrors) {
    auto first = open("one.log");
    auto second = open("two.log");
    BufferRef data = filled(block, 4);
    ASSERT_TRUE(run(write_all(*first, 0, data->span())).ok());
    ASSERT_TRUE(run(write_all(*second, 0, data->span())).ok());
    absl::Status a = absl::UnknownError("not run");
    absl::Status b = absl::UnknownError("not run");
    TaskGroup calls;
    calls.spawn([](File* file, absl::Status* out) -> Task<void> {
        *out = co_await file->sync_file_system();
    }(first.get(), &a));
    calls.spawn([](File* file, absl::Status* out) -> Task<void> {
        *out = co_await file->sync_file_system();
    }(second.get(), &b));
    run(calls.wait_idle());
    EXPECT_TRUE(a.ok()) << a;
    EXPECT_TRUE(b.ok()) << b;
    ASSERT_TRUE(run(second->close()).ok());
    EXPECT_EQ(run(second->sync_file_system()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(UringFileSystemTest, AllocateGrowsAndTruncateSetsTheSize) {
    auto file = open("space.log");
    EXPECT_EQ(*file->size(), 0u);
    ASSERT_TRUE(run(file->allocate(0, 1 << 20)).ok());
    EXPECT_EQ(*file->size(), 1u << 20);
    ASSERT_TRUE(run(file->allocate(4 * block, block)).ok());  // inside: no change
    EXPECT_EQ(*file->size(), 1u << 20);
    ASSERT_TRUE(run(file->truncate(3 * block)).ok());
    EXPECT_EQ(*file->size(), 3 * block);
    ASSERT_TRUE(run(file->truncate(5 * block)).ok());
    EXPECT_EQ(*file->size(), 5 * block);
}

TEST_F(UringFileSystemTest, ReadsEndAtTheEndOfTheFile) {
    auto buffered = open("short.log", {.create = true, .direct = false});
    const std::string text = "one hundred bytes or so";
    auto written =
        run(buffered->write(0, std::as_bytes(std::span(text.data(), text.size())), WriteOptions{}));
    ASSERT_TRUE(written.ok());
    ASSERT_TRUE(run(buffered->close()).ok());

    auto file = open("short.log", {.read_only = true});
    BufferRef back = BufferRef::allocate(2 * block);
    auto count = run(read_all(*file, 0, back->span()));
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, text.size());
    EXPECT_EQ(std::memcmp(back->data(), text.data(), text.size()), 0);
    EXPECT_EQ(*run(file->read(block, back->span())), 0u);
}

TEST_F(UringFileSystemTest, ConcurrentWritesAllLand) {
    auto file = open("many.log");
    std::vector<BufferRef> blocks;
    for (int i = 0; i < 32; ++i) {
        blocks.push_back(filled(block, static_cast<uint8_t>(i)));
    }
    run([](File& target, std::vector<BufferRef>& sources) -> Task<void> {
        TaskGroup group;
        for (size_t i = 0; i < sources.size(); ++i) {
            group.spawn([](File& f, uint64_t position, BufferRef data) -> Task<void> {
                EXPECT_TRUE((co_await write_all(f, position, data->span())).ok());
            }(target, i * block, sources[i]));
        }
        co_await group.wait_idle();
    }(*file, blocks));
    BufferRef back = BufferRef::allocate(32 * block);
    ASSERT_EQ(*run(read_all(*file, 0, back->span())), 32 * block);
    for (size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(std::memcmp(back->data() + i * block, blocks[i]->data(), block), 0) << i;
    }
}

TEST_F(UringFileSystemTest, OpenFailuresHaveTheirCodes) {
    auto missing = run(fs_.open(path("missing"), {}));
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find(path("missing")), std::string::npos);
    ASSERT_NE(open("exists"), nullptr);
    auto exclusive = run(fs_.open(path("exists"), {.create = true, .exclusive = true}));
    EXPECT_EQ(exclusive.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(UringFileSystemTest, ClosedFilesRefuseOperationsAndDestructorsClose) {
    auto file = open("closed.log");
    ASSERT_TRUE(run(file->close()).ok());
    EXPECT_EQ(run(file->datasync()).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(run(file->close()).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(file->size().status().code(), absl::StatusCode::kFailedPrecondition);

    auto unclosed = open("unclosed.log");
    const int fd = static_cast<UringFile&>(*unclosed).fd();
    ASSERT_GE(fd, 0);
    unclosed.reset();
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // the destructor closed it
}

TEST_F(UringFileSystemTest, DirectoryOperations) {
    ASSERT_TRUE(fs_.make_dirs(path("x/y/z")).ok());
    ASSERT_TRUE(fs_.make_dirs(path("x/y/z")).ok());  // idempotent
    EXPECT_TRUE(fs_.exists(path("x/y/z")));
    for (const char* name : {"c", "a", "b"}) {
        ASSERT_NE(open(std::string("x/") + name), nullptr);
    }
    auto names = fs_.list_dir(path("x"));
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c", "y"}));

    ASSERT_TRUE(fs_.rename(path("x/a"), path("x/d")).ok());
    EXPECT_FALSE(fs_.exists(path("x/a")));
    EXPECT_TRUE(fs_.exists(path("x/d")));
    ASSERT_TRUE(fs_.remove(path("x/d")).ok());
    EXPECT_EQ(fs_.remove(path("x/d")).code(), absl::StatusCode::kNotFound);
    ASSERT_TRUE(fs_.remove(path("x/y/z")).ok());  // an empty directory
    EXPECT_FALSE(fs_.remove(path("x")).ok());     // not empty
    EXPECT_TRUE(run(fs_.sync_dir(path("x"))).ok());
    EXPECT_EQ(run(fs_.sync_dir(path("nowhere"))).code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(fs_.make_dirs(path("x/b")).code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(fs_.list_dir(path("nowhere")).status().code(), absl::StatusCode::kNotFound);

    ASSERT_TRUE(fs_.remove_all(path("x")).ok());
    EXPECT_FALSE(fs_.exists(path("x")));
    EXPECT_EQ(fs_.remove_all(path("x")).code(), absl::StatusCode::kNotFound);
}

// tmpfs is the file system a test can be sure of finding in memory (/dev/shm, when it is one);
// procfs is never one, and a path that does not exist is treated as a device.
TEST_F(UringFileSystemTest, InMemoryIsTrueOnTmpfsOnly) {
    EXPECT_FALSE(fs_.in_memory("/proc"));
    EXPECT_FALSE(fs_.in_memory("/no/such/folder/anywhere"));
    struct statfs shm;
    if (::statfs("/dev/shm", &shm) != 0 || shm.f_type != TMPFS_MAGIC) {
        GTEST_SKIP() << "/dev/shm is not a tmpfs here";
    }
    std::string pattern = "/dev/shm/ringlog-io-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    EXPECT_TRUE(fs_.in_memory(pattern));
    ::rmdir(pattern.c_str());
}

#if !defined(NDEBUG) || defined(RINGLOG_SANITIZE)
// Debug builds assert O_DIRECT alignment before the kernel sees the request. The default
// ("fast") death test style forks here, so the child makes no temporary directory of its own;
// it dies before it submits anything to the ring it shares with the parent.
TEST_F(UringFileSystemTest, MisalignedDirectWriteIsAnAssertionInDebugBuilds) {
    auto file = open("misaligned.log");
    BufferRef data = filled(2 * block, 3);
    EXPECT_DEATH((void)run(file->write(100, data->span().subspan(0, block))), "O_DIRECT position");
}
#else
TEST_F(UringFileSystemTest, MisalignedDirectWriteIsInvalidArgument) {
    auto file = open("misaligned.log");
    BufferRef data = filled(2 * block, 3);
    auto written = run(file->write(100, data->span().subspan(0, block)));
    EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument) << written.status();
    auto unaligned_memory = run(file->write(0, data->span().subspan(1, block)));
    EXPECT_EQ(unaligned_memory.status().code(), absl::StatusCode::kInvalidArgument);
}
#endif

}  // namespace
}  // namespace ringlog::io
