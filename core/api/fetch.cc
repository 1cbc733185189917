// Fetch (key 1): whole record batches from any offset, sent as views on the log's buffers (the
// records are never copied into the response). A fetch that finds fewer than min_bytes waits
// up to max_wait_ms and is woken the moment a partition it reads gets new data: each shard it
// reads from has one "data arrived" condition, and the first shard that signals wakes the
// others. Fetch sessions (KIP-227) are not kept: session_id 0 tells the client so, and it
// sends full fetches (librdkafka 2.0.2 and kafkajs always do).
#include "net/kafka/generated/fetch.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/api/foreign_views.h"
#include "core/api/handlers.h"
#include "io/task_group.h"

namespace ringlog::core::api {
namespace {

using net::kafka::FetchRequest;
using net::kafka::FetchResponse;

struct FetchItem {
    std::string_view topic;
    int32_t partition;
    int64_t offset;
    int32_t bytes_max;
    size_t slot;  // index into the handler's reads
};

struct PartitionRead {
    ErrorCode error = ErrorCode::none;
    int64_t high_watermark = -1;
    int64_t log_start_offset = -1;
    size_t bytes = 0;
    ForeignViews views;
};

io::Task<std::vector<PartitionRead>> read_on_shard(Broker& broker, ShardLocal& local,
                                                   std::vector<FetchItem> items) {
    std::vector<PartitionRead> reads(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const FetchItem& item = items[i];
        PartitionRead& read = reads[i];
        Partition* found = local.find(item.topic, item.partition);
        if (found == nullptr) {
            read.error = ErrorCode::unknown_topic_or_partition;
            continue;
        }
        Partition::Use partition = found->use();
        Log& log = partition->log();
        read.high_watermark = log.high_watermark().value();
        read.log_start_offset = log.log_start_offset().value();
        if (item.bytes_max <= 0 || item.offset == read.high_watermark) {
            continue;  // nothing to send, but not an error
        }
        absl::StatusOr<LogReadResult> result =
            co_await log.read(Offset(item.offset), static_cast<size_t>(item.bytes_max));
        if (!result.ok()) {
            read.error = error_for_storage(result.status());
            continue;
        }
        read.high_watermark = result->high_watermark.value();
        read.log_start_offset = result->log_start_offset.value();
        read.bytes = result->bytes;
        partition->counters().bytes_out += result->bytes;
        read.views = ForeignViews(broker.shards(), local.shard().id(), std::move(result->views));
    }
    co_return reads;
}

// True when waiting is pointless: a partition has data beyond the fetch offset, or is gone.
bool has_news(ShardLocal& local, const std::vector<FetchItem>& items) {
    for (const FetchItem& item : items) {
        Partition* partition = local.find(item.topic, item.partition);
        if (partition == nullptr || partition->log().high_watermark().value() > item.offset
            || partition->log().log_start_offset().value() > item.offset) {
            return true;
        }
    }
    return false;
}

// On the owning shard: waits until one of `items` has news, the timeout passes, or somebody
// kicks this shard's condition.
io::Task<void> wait_on_shard(ShardLocal& local, std::vector<FetchItem> items,
                             std::chrono::nanoseconds timeout) {
    if (!has_news(local, items)) {
        (void)co_await local.data_arrived().wait_for(timeout);
    }
}

class FetchWait {
public:
    FetchWait(Broker& broker, ShardId here) : broker_(broker), here_(here) {}

    // Waits on every shard of `by_shard` until the first one has news or `timeout` passes.
    io::Task<void> run(std::vector<std::vector<FetchItem>> by_shard,
                       std::chrono::nanoseconds timeout) {
        for (size_t i = 0; i < by_shard.size(); ++i) {
            if (!by_shard[i].empty()) {
                waiting_.push_back(ShardId(static_cast<uint32_t>(i)));
            }
        }
        for (size_t i = 0; i < by_shard.size(); ++i) {
            if (!by_shard[i].empty()) {
                waits_.spawn(
                    wait_one(ShardId(static_cast<uint32_t>(i)), std::move(by_shard[i]), timeout));
            }
        }
        co_await waits_.wait_idle();
    }

private:
    io::Task<void> wait_one(ShardId shard, std::vector<FetchItem> items,
                            std::chrono::nanoseconds timeout) {
        if (shard == here_) {
            co_await wait_on_shard(broker_.local(), std::move(items), timeout);
        } else {
            Broker& broker = broker_;
            auto call = [&broker, shard, items = std::move(items), timeout]() mutable {
                return wait_on_shard(broker.local_of(shard), std::move(items), timeout);
            };
            co_await broker_.shards().submit_to(shard, std::move(call));
        }
        if (woken_) {
            co_return;
        }
        woken_ = true;
        // Wake the other shards' waits: a spurious wake-up for other fetches there is harmless,
        // they look again.
        for (const ShardId other : waiting_) {
            if (other == shard) {
                continue;
            }
            if (other == here_) {
                broker_.local().data_arrived().notify_all();
            } else {
                Broker& broker = broker_;
                auto kick = [&broker, other] {
                    broker.local_of(other).data_arrived().notify_all();
                };
                co_await broker_.shards().submit_to(other, std::move(kick));
            }
        }
    }

    Broker& broker_;
    ShardId here_;
    std::vector<ShardId> waiting_;
    bool woken_ = false;
    io::TaskGroup waits_;
};

io::Task<void> read_shard_into(Broker& broker, ShardId shard, ShardId here,
                               std::vector<FetchItem> items, std::vector<PartitionRead>& reads) {
    std::vector<size_t> slots;
    for (const FetchItem& item : items) {
        slots.push_back(item.slot);
    }
    std::vector<PartitionRead> results;
    if (shard == here) {
        results = co_await read_on_shard(broker, broker.local(), std::move(items));
    } else {
        auto call = [&broker, shard, items = std::move(items)]() mutable {
            return read_on_shard(broker, broker.local_of(shard), std::move(items));
        };
        results = co_await broker.shards().submit_to(shard, std::move(call));
    }
    for (size_t i = 0; i < results.size(); ++i) {
        reads[slots[i]] = std::move(results[i]);
    }
}

}  // namespace

io::Task<Reply> handle_fetch(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<FetchRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    Broker& broker = context.broker;
    const int shard_count = broker.shard_count();
    const ShardId here = context.local.shard().id();
    const auto deadline = std::chrono::steady_clock::now()
                          + std::chrono::milliseconds(std::max(0, request->max_wait_ms));

    // One item per requested partition, in request order; unknown ones answered right away.
    std::vector<FetchItem> items;
    std::vector<ErrorCode> early_errors;
    for (const auto& topic : request->topics) {
        const TopicInfo* info = context.local.catalog().find(topic.topic);
        for (const auto& partition : topic.partitions) {
            const size_t slot = items.size();
            items.push_back({topic.topic, partition.partition, partition.fetch_offset,
                             std::min(partition.partition_max_bytes, request->max_bytes), slot});
            early_errors.push_back(info == nullptr || partition.partition < 0
                                           || partition.partition >= info->partitions
                                       ? ErrorCode::unknown_topic_or_partition
                                       : ErrorCode::none);
        }
    }

    std::vector<PartitionRead> reads(items.size());
    while (true) {
        std::vector<std::vector<FetchItem>> by_shard(static_cast<size_t>(shard_count));
        for (const FetchItem& item : items) {
            if (early_errors[item.slot] == ErrorCode::none) {
                by_shard[shard_for(item.topic, item.partition, shard_count).value()].push_back(
                    item);
            }
        }
        {
            io::TaskGroup shard_reads;
            for (int i = 0; i < shard_count; ++i) {
                if (!by_shard[static_cast<size_t>(i)].empty()) {
                    shard_reads.spawn(read_shard_into(broker, ShardId(static_cast<uint32_t>(i)),
                                                      here, by_shard[static_cast<size_t>(i)],
                                                      reads));
                }
            }
            co_await shard_reads.wait_idle();
        }
        size_t bytes = 0;
        bool any_error = false;
        for (size_t i = 0; i < items.size(); ++i) {
            bytes += reads[i].bytes;
            any_error = any_error || early_errors[i] != ErrorCode::none
                        || reads[i].error != ErrorCode::none;
        }
        const auto now = std::chrono::steady_clock::now();
        if (bytes >= static_cast<size_t>(std::max(0, request->min_bytes)) || any_error
            || now >= deadline || items.empty()) {
            break;
        }
        FetchWait wait(broker, here);
        co_await wait.run(std::move(by_shard), deadline - now);
    }

    // The response's records point into the views that `reads` keeps alive until sent.
    FetchResponse response;
    size_t bytes_left = static_cast<size_t>(std::max(0, request->max_bytes));
    size_t item_index = 0;
    for (const auto& topic : request->topics) {
        auto& topic_out = response.responses.emplace_back();
        topic_out.topic = topic.topic;
        for (const auto& partition : topic.partitions) {
            PartitionRead& read = reads[item_index];
            const ErrorCode early = early_errors[item_index];
            ++item_index;
            auto& out = topic_out.partitions.emplace_back();
            out.partition_index = partition.partition;
            out.error_code = code(early != ErrorCode::none ? early : read.error);
            out.high_watermark = read.high_watermark;
            out.last_stable_offset = read.high_watermark;
            out.log_start_offset = read.log_start_offset;
            out.aborted_transactions.emplace();
            out.records.append(net::kafka::ByteView{});  // not null: empty
            // The first partition with data may exceed max_bytes (one batch at least, as Kafka
            // does, so a big batch is never stuck); later ones must fit in what is left.
            if (read.bytes > 0
                && (read.bytes <= bytes_left
                    || bytes_left == static_cast<size_t>(std::max(0, request->max_bytes)))) {
                for (const io::BufferView& view : read.views.views()) {
                    out.records.append(view.bytes());
                }
                bytes_left -= std::min(bytes_left, read.bytes);
            }
        }
    }
    co_return encode_reply(context, response, std::move(reads));
}

}  // namespace ringlog::core::api
