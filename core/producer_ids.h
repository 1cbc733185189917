// ProducerIds: hands out the producer ids of InitProducerId (KIP-98), unique across every shard
// and every restart of the broker. It lives on the controller shard; handlers on other shards
// reach it with submit_to. Ids are reserved in blocks: before the first id of a block is handed
// out, the start of the next block is written to <data>/producer_ids and synced, so after a
// crash numbering resumes past everything handed out (the rest of the block goes unused).
// Epochs are not tracked here: a producer without a transactional id gets a fresh id with
// epoch 0 on every InitProducerId, as Kafka's TransactionCoordinator gives it.
#pragma once

#include <cstdint>
#include <string>

#include <absl/status/statusor.h>

#include "io/async_mutex.h"
#include "io/file.h"
#include "io/task.h"

namespace ringlog::core {

// Contract: created, used and destroyed on the controller shard. next() loads the file the
// first time; a damaged file fails every next() with kDataLoss (ids could repeat otherwise).
class ProducerIds {
public:
    static constexpr int64_t block_size_default = 1000;

    ProducerIds(io::FileSystem& fs, std::string data_dir, int64_t block_size = block_size_default);

    [[nodiscard]] io::Task<absl::StatusOr<int64_t>> next();

    std::string path() const { return data_dir_ + "/producer_ids"; }

private:
    io::Task<absl::Status> load();
    io::Task<absl::Status> reserve_block();

    io::FileSystem& fs_;
    std::string data_dir_;
    int64_t block_size_;
    int64_t next_ = 0;
    int64_t block_end_ = 0;  // ids [next_, block_end_) are reserved and unused
    bool loaded_ = false;
    io::AsyncMutex mutex_;
};

}  // namespace ringlog::core
