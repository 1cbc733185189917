// Where topics live on disk. Each topic has a small text file, <data-dir>/topics/<name>.topic,
// written (and synced) before any of its partitions is created and removed only after they all
// are, so a crash in between leaves a topic that recovery completes, never partitions nobody
// knows. Partition logs themselves stay in <data-dir>/<topic>-<partition>/, as Kafka names them.
//
//   id=6c3bd3a6e1a24c0b9a8b1e6a1c1d2e3f
//   partitions=8
//   config.retention.ms=3600000
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/catalog.h"
#include "io/file.h"
#include "io/task.h"

namespace ringlog::core {

std::string topic_file_text(const TopicInfo& topic);

// kDataLoss when the text is not a topic file this broker wrote.
[[nodiscard]] absl::StatusOr<TopicInfo> parse_topic_file(std::string_view name,
                                                         std::string_view text);

std::string partition_dir(std::string_view data_dir, std::string_view topic, int32_t partition);

class TopicStore {
public:
    TopicStore(io::FileSystem& fs, std::string data_dir)
        : fs_(fs), data_dir_(std::move(data_dir)) {}

    // Every topic: those with a file, plus any partition folders without one (from a broker
    // that had no topic files, or a file lost to a crash), as topics with default config.
    [[nodiscard]] io::Task<absl::StatusOr<std::vector<TopicInfo>>> load();

    [[nodiscard]] io::Task<absl::Status> save(const TopicInfo& topic);

    [[nodiscard]] io::Task<absl::Status> remove(std::string name);

private:
    std::string topics_dir() const { return data_dir_ + "/topics"; }

    io::FileSystem& fs_;
    std::string data_dir_;
};

}  // namespace ringlog::core
