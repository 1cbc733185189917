#include "io/file.h"

#include <absl/strings/str_cat.h>

#include "io/base/limits.h"
#include "io/base/status_macros.h"

namespace ringlog::io {

Task<absl::Status> write_all(File& file, uint64_t position, std::span<const std::byte> data,
                             WriteOptions options) {
    size_t done = 0;
    while (done < data.size()) {
        RL_CO_ASSIGN_OR_RETURN(size_t written,
                               co_await file.write(position + done, data.subspan(done), options));
        if (written == 0) {
            co_return absl::DataLossError(
                absl::StrCat("write to ", file.path(), " made no progress at ", position + done));
        }
        done += written;
        // Restart a partial block from its start: O_DIRECT cannot write less than a block.
        done -= done % limits::dma_alignment == 0 || done == data.size()
                    ? 0
                    : done % limits::dma_alignment;
    }
    co_return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> read_all(File& file, uint64_t position, std::span<std::byte> buffer,
                                      int fixed_index) {
    size_t done = 0;
    while (done < buffer.size()) {
        RL_CO_ASSIGN_OR_RETURN(
            size_t count, co_await file.read(position + done, buffer.subspan(done), fixed_index));
        if (count == 0) {
            break;
        }
        done += count;
        if (done % limits::dma_alignment != 0) {
            break;  // a direct read ending mid-block means the file ended there
        }
    }
    co_return done;
}

Task<absl::StatusOr<std::vector<std::byte>>> read_whole_file(FileSystem& fs, std::string path) {
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                           co_await fs.open(path, {.read_only = true, .direct = false}));
    RL_CO_ASSIGN_OR_RETURN(uint64_t size, file->size());
    std::vector<std::byte> bytes(size);
    RL_CO_ASSIGN_OR_RETURN(size_t count, co_await read_all(*file, 0, bytes));
    bytes.resize(count);
    RL_CO_RETURN_IF_ERROR(co_await file->close());
    co_return bytes;
}

Task<absl::Status> write_whole_file(FileSystem& fs, std::string path,
                                    std::vector<std::byte> bytes) {
    RL_CO_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                           co_await fs.open(path, {.create = true, .direct = false}));
    RL_CO_RETURN_IF_ERROR(co_await file->truncate(0));
    RL_CO_RETURN_IF_ERROR(co_await write_all(*file, 0, bytes));
    RL_CO_RETURN_IF_ERROR(co_await file->datasync());
    co_return co_await file->close();
}

}  // namespace ringlog::io
