#include "core/producer_ids.h"

#include <array>
#include <cstddef>

#include <absl/strings/str_cat.h>

#include "io/base/status_macros.h"
#include "net/kafka/crc32c.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {
namespace {

namespace big_endian = net::kafka::big_endian;

// The file: the next block's first id (i64) and the CRC-32C of those 8 bytes (u32), big-endian.
constexpr size_t file_bytes = 12;

}  // namespace

ProducerIds::ProducerIds(io::FileSystem& fs, std::string data_dir, int64_t block_size)
    : fs_(fs), data_dir_(std::move(data_dir)), block_size_(block_size) {
    RL_ASSERT(block_size_ > 0);
}

io::Task<absl::Status> ProducerIds::load() {
    if (!fs_.exists(path())) {
        next_ = block_end_ = 0;
        loaded_ = true;
        co_return absl::OkStatus();
    }
    RL_CO_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, co_await io::read_whole_file(fs_, path()));
    if (bytes.size() != file_bytes
        || net::kafka::crc32c(std::span(bytes).first(8))
               != big_endian::load<uint32_t>(bytes.data() + 8)) {
        co_return absl::DataLossError(absl::StrCat(path(),
                                                   " is damaged: producer ids could "
                                                   "repeat; refusing to hand any out"));
    }
    const int64_t start = big_endian::load<int64_t>(bytes.data());
    if (start < 0) {
        co_return absl::DataLossError(absl::StrCat(path(), " holds a negative id"));
    }
    next_ = block_end_ = start;
    loaded_ = true;
    co_return absl::OkStatus();
}

io::Task<absl::Status> ProducerIds::reserve_block() {
    const int64_t end = block_end_ + block_size_;
    std::vector<std::byte> bytes(file_bytes);
    big_endian::store<int64_t>(bytes.data(), end);
    big_endian::store<uint32_t>(bytes.data() + 8, net::kafka::crc32c(std::span(bytes).first(8)));
    // Aside, synced, renamed: a crash leaves the old reservation or the new one, whole.
    const std::string temporary = path() + ".tmp";
    RL_CO_RETURN_IF_ERROR(co_await io::write_whole_file(fs_, temporary, std::move(bytes)));
    RL_CO_RETURN_IF_ERROR(fs_.rename(temporary, path()));
    RL_CO_RETURN_IF_ERROR(co_await fs_.sync_dir(data_dir_));
    block_end_ = end;
    co_return absl::OkStatus();
}

io::Task<absl::StatusOr<int64_t>> ProducerIds::next() {
    co_await mutex_.lock();
    io::AsyncMutexUnlock unlock(mutex_);
    if (!loaded_) {
        RL_CO_RETURN_IF_ERROR(co_await load());
    }
    if (next_ == block_end_) {
        RL_CO_RETURN_IF_ERROR(co_await reserve_block());
    }
    co_return next_++;
}

}  // namespace ringlog::core
