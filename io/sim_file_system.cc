// The simulated file system: two images per file, per-directory durable entries, a seeded
// fault plan and crashes. See sim_file_system.h for the model.
#include "io/sim_file_system.h"

#include <errno.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>

#include "io/base/assert.h"
#include "io/base/errno_status.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"

namespace ringlog::io {

namespace {

constexpr uint64_t block_bytes = limits::dma_alignment;

bool aligned(uint64_t value) {
    return value % limits::dma_alignment == 0;
}

bool aligned(const void* address) {
    return aligned(reinterpret_cast<uintptr_t>(address));
}

}  // namespace

struct SimFileSystem::Inode {
    std::vector<std::byte> written;
    std::vector<std::byte> durable;
    // Blocks whose written bytes (or the size inside them) may differ from the durable ones:
    // a superset, so a sync copies only these and a crash only looks at these. Ordered, so a
    // crash draws its random choices in the same order every run.
    std::set<uint64_t> dirty_blocks;
    uint32_t open_count = 0;
    // Recounted by collect_garbage(): an inode lives while a live or durable entry or an open
    // handle refers to it.
    uint32_t live_links = 0;
    uint32_t durable_links = 0;
};

class SimFileSystem::SimFile final : public File {
public:
    SimFile(SimFileSystem& fs, Inode& inode, std::string path, OpenOptions options)
        : fs_(fs),
          inode_(inode),
          path_(std::move(path)),
          options_(options),
          generation_(fs.generation_) {}

    ~SimFile() override { fs_.release(*this); }

    Task<absl::StatusOr<size_t>> write(uint64_t position, std::span<const std::byte> data,
                                       WriteOptions options) override {
        return fs_.file_write(*this, position, data, options);
    }

    Task<absl::StatusOr<size_t>> read(uint64_t position, std::span<std::byte> buffer,
                                      int /*fixed_index*/) override {
        return fs_.file_read(*this, position, buffer);
    }

    Task<absl::Status> datasync() override { return fs_.file_datasync(*this); }

    Task<absl::Status> sync_file_system() override { return fs_.file_sync_file_system(*this); }

    Task<absl::Status> allocate(uint64_t position, uint64_t length) override {
        return fs_.file_allocate(*this, position, length);
    }

    Task<absl::Status> truncate(uint64_t size) override { return fs_.file_truncate(*this, size); }

    absl::StatusOr<uint64_t> size() override {
        RL_RETURN_IF_ERROR(fs_.check_usable(*this));
        return inode_.written.size();
    }

    Task<absl::Status> close() override { return fs_.file_close(*this); }

    const std::string& path() const override { return path_; }

private:
    friend class SimFileSystem;

    SimFileSystem& fs_;
    Inode& inode_;  // valid while this handle is open and from the current generation
    std::string path_;
    OpenOptions options_;
    uint64_t generation_;
    bool closed_ = false;
};

SimFileSystem::SimFileSystem(uint64_t seed) : seed_(seed), random_(seed) {
    directories_["/"];
}

SimFileSystem::~SimFileSystem() = default;

uint64_t SimFileSystem::seed_from_env(uint64_t fallback) {
    const char* text = getenv("RINGLOG_SEED");
    if (text == nullptr || *text == '\0') {
        return fallback;
    }
    return strtoull(text, nullptr, 0);
}

uint64_t SimFileSystem::random_below(uint64_t bound) {
    RL_ASSERT(bound > 0);
    // Modulo bias is irrelevant here, and unlike std::uniform_int_distribution this gives the
    // same numbers with every standard library.
    return random_() % bound;
}

bool SimFileSystem::chance(double probability) {
    if (probability <= 0.0) {
        return false;  // draws nothing, so an unused fault does not shift other choices
    }
    return static_cast<double>(random_() >> 11) * 0x1.0p-53 < probability;
}

// ---------------------------------------------------------------------------------------------
// File operations

absl::Status SimFileSystem::check_usable(const SimFile& file) const {
    if (file.generation_ != generation_) {
        return absl::FailedPreconditionError(
            absl::StrCat(file.path_, ": file handle died in a simulated crash"));
    }
    if (file.closed_) {
        return absl::FailedPreconditionError(absl::StrCat(file.path_, ": file is closed"));
    }
    return absl::OkStatus();
}

void SimFileSystem::release(SimFile& file) {
    if (file.generation_ != generation_ || file.closed_) {
        return;
    }
    file.closed_ = true;
    RL_ASSERT(file.inode_.open_count > 0);
    --file.inode_.open_count;
    collect_garbage();
}

bool SimFileSystem::fits(uint64_t growth) const {
    if (faults_.space_bytes < 0 || growth == 0) {
        return true;
    }
    return allocated_bytes() + growth <= static_cast<uint64_t>(faults_.space_bytes);
}

void SimFileSystem::mark_dirty(Inode& inode, uint64_t begin, uint64_t end) {
    for (uint64_t block = begin / block_bytes; block * block_bytes < end; ++block) {
        inode.dirty_blocks.insert(block);
    }
}

void SimFileSystem::resize_written(Inode& inode, uint64_t size) {
    const uint64_t old_size = inode.written.size();
    if (size == old_size) {
        return;
    }
    inode.written.resize(size, std::byte{0});
    mark_dirty(inode, std::min(old_size, size), std::max(old_size, size));
}

bool SimFileSystem::block_differs(const Inode& inode, uint64_t block) const {
    const uint64_t begin = block * block_bytes;
    const auto length_in = [&](const std::vector<std::byte>& image) {
        return image.size() <= begin ? uint64_t{0}
                                     : std::min<uint64_t>(block_bytes, image.size() - begin);
    };
    const uint64_t written_length = length_in(inode.written);
    const uint64_t durable_length = length_in(inode.durable);
    if (written_length != durable_length) {
        return true;
    }
    return written_length > 0
           && std::memcmp(inode.written.data() + begin, inode.durable.data() + begin,
                          written_length)
                  != 0;
}

Task<absl::StatusOr<size_t>> SimFileSystem::file_write(SimFile& file, uint64_t position,
                                                       std::span<const std::byte> data,
                                                       WriteOptions options) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_usable(file));
    const auto context = [&] { return absl::StrCat("write to ", file.path_, " at ", position); };
    if (file.options_.read_only) {
        co_return errno_to_status(EBADF, context());
    }
    if (file.options_.direct
        && !(aligned(position) && aligned(data.size())
             && aligned(static_cast<const void*>(data.data())))) {
        co_return errno_to_status(EINVAL, context());
    }
    if (faults_.fail_write_after >= 0 && faults_.fail_write_after-- == 0) {
        ++stats_.write_errors;
        co_return errno_to_status(EIO, context());
    }
    size_t length = data.size();
    if (length >= 2 * block_bytes && chance(faults_.short_write_probability)) {
        // A random multiple of the block size in [4096, length): e.g. 12288 asked gives 4096
        // or 8192.
        length = block_bytes * (1 + random_below((length - 1) / block_bytes));
        ++stats_.short_writes;
    }
    Inode& inode = file.inode_;
    const uint64_t end = position + length;
    const uint64_t growth = end > inode.written.size() ? end - inode.written.size() : 0;
    if (!fits(growth)) {
        ++stats_.space_errors;
        co_return errno_to_status(ENOSPC, context());
    }
    if (end > inode.written.size()) {
        resize_written(inode, end);
    }
    if (length > 0) {
        std::memcpy(inode.written.data() + position, data.data(), length);
        mark_dirty(inode, position, end);
    }
    if (options.dsync && faults_.fail_sync_after >= 0 && faults_.fail_sync_after-- == 0) {
        ++stats_.sync_errors;
        co_return errno_to_status(EIO, absl::StrCat("dsync ", context()));
    }
    if (options.dsync && length > 0) {
        ++stats_.dsync_writes;
        if (inode.durable.size() < end) {
            inode.durable.resize(end, std::byte{0});
        }
        std::memcpy(inode.durable.data() + position, data.data(), length);
        for (uint64_t block = position / block_bytes; block * block_bytes < end; ++block) {
            if (!block_differs(inode, block)) {
                inode.dirty_blocks.erase(block);
            }
        }
    }
    ++stats_.writes;
    stats_.bytes_written += length;
    co_return length;
}

Task<absl::StatusOr<size_t>> SimFileSystem::file_read(SimFile& file, uint64_t position,
                                                      std::span<std::byte> buffer) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_usable(file));
    const auto context = [&] { return absl::StrCat("read from ", file.path_, " at ", position); };
    if (file.options_.direct
        && !(aligned(position) && aligned(buffer.size())
             && aligned(static_cast<const void*>(buffer.data())))) {
        co_return errno_to_status(EINVAL, context());
    }
    if (chance(faults_.read_error_probability)) {
        ++stats_.read_errors;
        co_return errno_to_status(EIO, context());
    }
    const std::vector<std::byte>& image = file.inode_.written;
    const size_t count =
        position >= image.size() ? 0 : std::min<uint64_t>(buffer.size(), image.size() - position);
    if (count > 0) {
        std::memcpy(buffer.data(), image.data() + position, count);
    }
    ++stats_.reads;
    stats_.bytes_read += count;
    co_return count;
}

absl::Status SimFileSystem::check_sync(const SimFile& file, const char* what) {
    RL_RETURN_IF_ERROR(check_usable(file));
    // A failed sync makes nothing durable that a caller may count on.
    if (faults_.fail_sync_after >= 0 && faults_.fail_sync_after-- == 0) {
        ++stats_.sync_errors;
        return errno_to_status(EIO, absl::StrCat(what, file.path_));
    }
    return absl::OkStatus();
}

Task<absl::Status> SimFileSystem::file_datasync(SimFile& file) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_sync(file, "datasync of "));
    make_durable(file.inode_);
    ++stats_.syncs;
    co_return absl::OkStatus();
}

void SimFileSystem::make_durable(Inode& inode) {
    inode.durable.resize(inode.written.size(), std::byte{0});
    for (uint64_t block : inode.dirty_blocks) {
        const uint64_t begin = block * block_bytes;
        if (begin < inode.written.size()) {
            const uint64_t length = std::min<uint64_t>(block_bytes, inode.written.size() - begin);
            std::memcpy(inode.durable.data() + begin, inode.written.data() + begin, length);
        }
    }
    inode.dirty_blocks.clear();
}

Task<absl::Status> SimFileSystem::file_sync_file_system(SimFile& file) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_sync(file, "syncfs of the file system of "));
    for (auto& [number, inode] : inodes_) {
        make_durable(*inode);
    }
    for (auto& [path, directory] : directories_) {
        directory.durable = directory.live;
    }
    collect_garbage();
    ++stats_.file_system_syncs;
    co_return absl::OkStatus();
}

Task<absl::Status> SimFileSystem::file_allocate(SimFile& file, uint64_t position, uint64_t length) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_usable(file));
    const auto context = [&] {
        return absl::StrCat("allocate ", length, " bytes at ", position, " in ", file.path_);
    };
    if (file.options_.read_only) {
        co_return errno_to_status(EBADF, context());
    }
    if (length == 0) {
        co_return errno_to_status(EINVAL, context());  // fallocate(2): len must be > 0
    }
    Inode& inode = file.inode_;
    const uint64_t end = position + length;
    if (end <= inode.written.size()) {
        co_return absl::OkStatus();
    }
    if (!fits(end - inode.written.size())) {
        ++stats_.space_errors;
        co_return errno_to_status(ENOSPC, context());
    }
    resize_written(inode, end);
    co_return absl::OkStatus();
}

Task<absl::Status> SimFileSystem::file_truncate(SimFile& file, uint64_t size) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_usable(file));
    const auto context = [&] { return absl::StrCat("truncate ", file.path_, " to ", size); };
    if (file.options_.read_only) {
        co_return errno_to_status(EINVAL, context());  // ftruncate(2) on a read-only fd
    }
    Inode& inode = file.inode_;
    if (size > inode.written.size() && !fits(size - inode.written.size())) {
        ++stats_.space_errors;
        co_return errno_to_status(ENOSPC, context());
    }
    resize_written(inode, size);
    co_return absl::OkStatus();
}

Task<absl::Status> SimFileSystem::file_close(SimFile& file) {
    if (yield_) {
        co_await yield_();
    }
    RL_CO_RETURN_IF_ERROR(check_usable(file));
    release(file);
    co_return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Crashes

std::vector<std::byte> SimFileSystem::torn_image(const Inode& inode) {
    const std::vector<std::byte>& fresh = inode.written;
    const std::vector<std::byte>& old = inode.durable;
    std::vector<std::byte> image = old;
    uint64_t size = old.size();
    bool torn = false;
    for (uint64_t block : inode.dirty_blocks) {
        if (!block_differs(inode, block)) {
            continue;
        }
        const uint64_t begin = block * block_bytes;
        const uint64_t end = begin + block_bytes;
        // 0 keeps the old block, 1 the new one, 2 tears it (once per file).
        uint64_t choice = random_below(torn ? 2 : 3);
        uint64_t keep_new_bytes = block_bytes;
        if (choice == 2) {
            keep_new_bytes = 1 + random_below(block_bytes - 1);
            torn = true;
        }
        if (choice == 0) {
            continue;
        }
        if (image.size() < end) {
            image.resize(end, std::byte{0});
        }
        // New bytes past the written image's end are zeros: the block was truncated away.
        for (uint64_t i = begin; i < begin + keep_new_bytes; ++i) {
            image[i] = i < fresh.size() ? fresh[i] : std::byte{0};
        }
        size = std::max(size, std::min<uint64_t>(begin + keep_new_bytes, fresh.size()));
    }
    image.resize(size, std::byte{0});
    return image;
}

void SimFileSystem::crash(CrashMode mode) {
    ++generation_;
    ++stats_.crashes;
    for (auto& [id, inode] : inodes_) {
        switch (mode) {
            case CrashMode::drop_unsynced:
                inode->written = inode->durable;
                break;
            case CrashMode::tear_unsynced:
                inode->written = torn_image(*inode);
                break;
        }
        // What survived is now all there is: durable and written agree again.
        inode->durable = inode->written;
        inode->dirty_blocks.clear();
        inode->open_count = 0;
    }
    for (auto& [path, directory] : directories_) {
        directory.live = directory.durable;
    }
    collect_garbage();
}

// ---------------------------------------------------------------------------------------------
// Namespace

std::string SimFileSystem::canonical(const std::string& path) {
    std::vector<std::string> parts;
    for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
            continue;
        }
        parts.emplace_back(part);
    }
    std::string out;
    for (const std::string& part : parts) {
        absl::StrAppend(&out, "/", part);
    }
    return out.empty() ? "/" : out;
}

std::string SimFileSystem::parent_of(const std::string& canonical_path) {
    const size_t slash = canonical_path.rfind('/');
    return slash == 0 ? "/" : canonical_path.substr(0, slash);
}

std::string SimFileSystem::name_of(const std::string& canonical_path) {
    return canonical_path.substr(canonical_path.rfind('/') + 1);
}

std::string SimFileSystem::child_of(const std::string& directory, const std::string& name) {
    return directory == "/" ? "/" + name : directory + "/" + name;
}

const SimFileSystem::Entry* SimFileSystem::find(const std::string& canonical_path) const {
    static const Entry root{.directory = true};
    if (canonical_path == "/") {
        return &root;
    }
    const auto directory = directories_.find(parent_of(canonical_path));
    if (directory == directories_.end()) {
        return nullptr;
    }
    const auto entry = directory->second.live.find(name_of(canonical_path));
    return entry == directory->second.live.end() ? nullptr : &entry->second;
}

void SimFileSystem::collect_garbage() {
    for (auto& [id, inode] : inodes_) {
        inode->live_links = 0;
        inode->durable_links = 0;
    }
    for (const auto& [path, directory] : directories_) {
        for (const auto& [name, entry] : directory.live) {
            if (!entry.directory) {
                ++inodes_.at(entry.inode)->live_links;
            }
        }
        for (const auto& [name, entry] : directory.durable) {
            if (!entry.directory) {
                ++inodes_.at(entry.inode)->durable_links;
            }
        }
    }
    std::erase_if(inodes_, [](const auto& item) {
        const Inode& inode = *item.second;
        return inode.live_links == 0 && inode.durable_links == 0 && inode.open_count == 0;
    });
}

uint64_t SimFileSystem::allocated_bytes() const {
    uint64_t total = 0;
    for (const auto& [id, inode] : inodes_) {
        // A file removed but not yet synced away still has its durable entry; its space counts
        // only while it is visible or open, as in a real file system.
        if (inode->live_links > 0 || inode->open_count > 0) {
            total += inode->written.size();
        }
    }
    return total;
}

const SimFileSystem::Inode& SimFileSystem::inode_at(const std::string& path) const {
    const Entry* entry = find(canonical(path));
    RL_ASSERT(entry != nullptr && !entry->directory, "%s is not a file", path);
    return *inodes_.at(entry->inode);
}

uint64_t SimFileSystem::durable_size(const std::string& path) const {
    return inode_at(path).durable.size();
}

std::vector<std::byte> SimFileSystem::written_bytes(const std::string& path) const {
    return inode_at(path).written;
}

std::vector<std::byte> SimFileSystem::durable_bytes(const std::string& path) const {
    return inode_at(path).durable;
}

Task<absl::StatusOr<std::unique_ptr<File>>> SimFileSystem::open(std::string path,
                                                                OpenOptions options) {
    if (yield_) {
        co_await yield_();
    }
    const std::string target = canonical(path);
    const auto context = [&] { return absl::StrCat("open ", path); };
    const auto parent = directories_.find(parent_of(target));
    if (parent == directories_.end()) {
        co_return errno_to_status(find(parent_of(target)) != nullptr ? ENOTDIR : ENOENT, context());
    }
    const Entry* entry = find(target);
    if (entry != nullptr && entry->directory) {
        co_return errno_to_status(EISDIR, context());
    }
    if (entry != nullptr && options.create && options.exclusive) {
        co_return errno_to_status(EEXIST, context());
    }
    if (entry == nullptr && !options.create) {
        co_return errno_to_status(ENOENT, context());
    }
    uint64_t id = 0;
    if (entry != nullptr) {
        id = entry->inode;
    } else {
        id = next_inode_++;
        inodes_.emplace(id, std::make_unique<Inode>());
        parent->second.live[name_of(target)] = Entry{.directory = false, .inode = id};
        inodes_.at(id)->live_links = 1;
    }
    Inode& inode = *inodes_.at(id);
    ++inode.open_count;
    co_return std::make_unique<SimFile>(*this, inode, std::move(path), options);
}

absl::Status SimFileSystem::make_dirs(const std::string& path) {
    const std::string target = canonical(path);
    std::string current = "/";
    for (absl::string_view part : absl::StrSplit(target, '/', absl::SkipEmpty())) {
        const std::string next = child_of(current, std::string(part));
        const Entry* entry = find(next);
        if (entry == nullptr) {
            const Entry directory{.directory = true};
            directories_[current].live[std::string(part)] = directory;
            directories_[current].durable[std::string(part)] = directory;
            directories_[next];
        } else if (!entry->directory) {
            return errno_to_status(next == target ? EEXIST : ENOTDIR,
                                   absl::StrCat("make directories ", path));
        }
        current = next;
    }
    return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimFileSystem::list_dir(const std::string& path) {
    const std::string target = canonical(path);
    const auto directory = directories_.find(target);
    if (directory == directories_.end()) {
        return errno_to_status(find(target) != nullptr ? ENOTDIR : ENOENT,
                               absl::StrCat("list ", path));
    }
    std::vector<std::string> names;
    names.reserve(directory->second.live.size());
    for (const auto& [name, entry] : directory->second.live) {
        names.push_back(name);
    }
    return names;
}

void SimFileSystem::remove_tree(const std::string& canonical_path) {
    const auto directory = directories_.find(canonical_path);
    if (directory != directories_.end()) {
        std::vector<std::string> children;
        for (const auto& [name, entry] : directory->second.live) {
            if (entry.directory) {
                children.push_back(child_of(canonical_path, name));
            }
        }
        for (const std::string& child : children) {
            remove_tree(child);
        }
        directories_.erase(canonical_path);
    }
    Directory& parent = directories_.at(parent_of(canonical_path));
    parent.live.erase(name_of(canonical_path));
    parent.durable.erase(name_of(canonical_path));
}

absl::Status SimFileSystem::remove(const std::string& path) {
    const std::string target = canonical(path);
    const auto context = [&] { return absl::StrCat("remove ", path); };
    const Entry* entry = find(target);
    if (entry == nullptr) {
        return errno_to_status(ENOENT, context());
    }
    if (target == "/") {
        return errno_to_status(EBUSY, context());
    }
    if (entry->directory) {
        if (!directories_.at(target).live.empty()) {
            return errno_to_status(ENOTEMPTY, context());
        }
        remove_tree(target);  // directories are durable at once
    } else {
        directories_.at(parent_of(target)).live.erase(name_of(target));
    }
    collect_garbage();
    return absl::OkStatus();
}

absl::Status SimFileSystem::remove_all(const std::string& path) {
    const std::string target = canonical(path);
    const Entry* entry = find(target);
    if (entry == nullptr) {
        return errno_to_status(ENOENT, absl::StrCat("remove all of ", path));
    }
    if (target == "/") {
        return errno_to_status(EBUSY, absl::StrCat("remove all of ", path));
    }
    if (entry->directory) {
        remove_tree(target);
    } else {
        directories_.at(parent_of(target)).live.erase(name_of(target));
    }
    collect_garbage();
    return absl::OkStatus();
}

absl::Status SimFileSystem::rename(const std::string& from, const std::string& to) {
    const std::string source = canonical(from);
    const std::string target = canonical(to);
    const auto context = [&] { return absl::StrCat("rename ", from, " to ", to); };
    const Entry* source_entry = find(source);
    if (source_entry == nullptr) {
        return errno_to_status(ENOENT, context());
    }
    const auto target_parent = directories_.find(parent_of(target));
    if (target_parent == directories_.end()) {
        return errno_to_status(ENOENT, context());
    }
    if (source == target) {
        return absl::OkStatus();
    }
    if (source == "/" || target == "/") {
        return errno_to_status(EBUSY, context());
    }
    const Entry moved = *source_entry;
    const Entry* target_entry = find(target);
    if (!moved.directory) {
        if (target_entry != nullptr && target_entry->directory) {
            return errno_to_status(EISDIR, context());
        }
        directories_.at(parent_of(source)).live.erase(name_of(source));
        target_parent->second.live[name_of(target)] = moved;
        collect_garbage();
        return absl::OkStatus();
    }
    // A directory: durable at once, and every directory under it moves with it.
    if (target.starts_with(source + "/")) {
        return errno_to_status(EINVAL, context());
    }
    if (target_entry != nullptr) {
        if (!target_entry->directory) {
            return errno_to_status(ENOTDIR, context());
        }
        if (!directories_.at(target).live.empty()) {
            return errno_to_status(ENOTEMPTY, context());
        }
        remove_tree(target);
    }
    std::map<std::string, Directory> moved_directories;
    for (auto it = directories_.begin(); it != directories_.end();) {
        if (it->first == source || it->first.starts_with(source + "/")) {
            moved_directories.emplace(target + it->first.substr(source.size()),
                                      std::move(it->second));
            it = directories_.erase(it);
        } else {
            ++it;
        }
    }
    directories_.merge(moved_directories);
    Directory& source_parent = directories_.at(parent_of(source));
    source_parent.live.erase(name_of(source));
    source_parent.durable.erase(name_of(source));
    Directory& new_parent = directories_.at(parent_of(target));
    new_parent.live[name_of(target)] = moved;
    new_parent.durable[name_of(target)] = moved;
    collect_garbage();
    return absl::OkStatus();
}

Task<absl::Status> SimFileSystem::sync_dir(std::string path) {
    if (yield_) {
        co_await yield_();
    }
    const std::string target = canonical(path);
    const auto directory = directories_.find(target);
    if (directory == directories_.end()) {
        co_return errno_to_status(find(target) != nullptr ? ENOTDIR : ENOENT,
                                  absl::StrCat("sync directory ", path));
    }
    directory->second.durable = directory->second.live;
    ++stats_.dir_syncs;
    collect_garbage();
    co_return absl::OkStatus();
}

bool SimFileSystem::exists(const std::string& path) {
    return find(canonical(path)) != nullptr;
}

bool SimFileSystem::in_memory(const std::string& /*path*/) {
    return in_memory_;
}

}  // namespace ringlog::io
