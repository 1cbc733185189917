// Produce (key 0): append each partition's record batches to its log on the shard that owns it.
// Partitions of one request are appended concurrently: those of one shard share its flushes
// (group commit), and shards work in parallel. acks=all completes when the bytes are durable,
// acks=1 once they are in the log's memory, acks=0 sends no response (DESIGN.md, "The log").
// Only magic v2 batches are accepted, though Produce is advertised from v0: librdkafka 2.0.2
// compresses only for a broker whose Produce range includes v0 (CLIENT-VERSIONS.md).
// Batches of idempotent producers are checked by the log against the partition's producer
// table (core/producer_state.h): a retry is answered with the original offsets.
#include "net/kafka/generated/produce.h"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "core/api/handlers.h"
#include "core/clock.h"
#include "io/base/status_macros.h"
#include "io/task_group.h"
#include "net/kafka/compression.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core::api {
namespace {

using net::kafka::ProduceRequest;
using net::kafka::ProduceResponse;

// A partition whose acks=all answer waits for its log's next sync: the store is done, and
// wait_durable() is what is left.
struct PendingAck {
    size_t topic_index;  // in the response's topics
    std::string_view topic;
    int32_t partition;
    ShardId shard;
    ProduceResponse::PartitionProduceResponse* out;
    AppendResult stored;
    bool waits = false;
};

struct ProduceItem {
    std::string_view topic;
    int32_t partition;
    net::kafka::ByteView records;
    ProduceResponse::PartitionProduceResponse* out;
    PendingAck* pending;  // acks=all only
};

// The most a compressed batch of a compacted topic may inflate to while its keys are checked.
constexpr size_t inflated_bytes_max = 64 * 1024 * 1024;

constexpr std::string_view no_key_message = "Compacted topic cannot accept message without key";

// Kafka refuses a record without a key on a compacted topic (INVALID_RECORD): compaction keeps
// the newest record of each key, and a record with none could never be compacted. A
// compressed batch is inflated to look, as Kafka's validator does for such topics.
ErrorCode check_keys(const net::kafka::RecordBatchView& batch) {
    if (batch.is_control()) {
        return ErrorCode::none;
    }
    std::vector<std::byte> inflated;
    std::span<const std::byte> records = batch.records_bytes();
    if (batch.compression() != net::kafka::Compression::none) {
        absl::StatusOr<std::vector<std::byte>> bytes =
            net::kafka::decompress(batch.compression(), records, inflated_bytes_max);
        if (!bytes.ok()) {
            return ErrorCode::corrupt_message;
        }
        inflated = *std::move(bytes);
        records = inflated;
    }
    net::kafka::RecordIterator iterator(records, batch.records_count());
    net::kafka::Record record;
    while (iterator.next(record)) {
        if (!record.key.has_value()) {
            return ErrorCode::invalid_record;
        }
    }
    return iterator.status().ok() ? ErrorCode::none : ErrorCode::corrupt_message;
}

// Checks what the log does not: every batch is magic v2 and within the topic's size limit,
// and on a compacted topic every record has a key (`message` then says so).
ErrorCode check_batches(net::kafka::ByteView records, int32_t max_message_bytes, int16_t version,
                        bool compacted, std::string_view& message) {
    if (records.empty()) {
        return ErrorCode::corrupt_message;
    }
    size_t position = 0;
    while (position < records.size()) {
        const net::kafka::ByteView rest = records.subspan(position);
        constexpr size_t magic_position = 16;
        if (rest.size() <= magic_position) {
            return ErrorCode::corrupt_message;
        }
        if (static_cast<int8_t>(rest[magic_position]) != 2) {
            // Kafka: Produce v3+ may carry only magic v2 (INVALID_RECORD); older versions may
            // carry v0/v1 message sets, which Kafka converts and this broker does not store.
            return version >= 3 ? ErrorCode::invalid_record
                                : ErrorCode::unsupported_for_message_format;
        }
        absl::StatusOr<net::kafka::RecordBatchView> batch =
            net::kafka::RecordBatchView::parse(rest);
        if (!batch.ok()) {
            return ErrorCode::corrupt_message;
        }
        if (batch->size_bytes() > static_cast<size_t>(max_message_bytes)) {
            return ErrorCode::message_too_large;
        }
        if (compacted) {
            if (const ErrorCode keys = check_keys(*batch); keys != ErrorCode::none) {
                message = keys == ErrorCode::invalid_record ? no_key_message : std::string_view();
                return keys;
            }
        }
        position += batch->size_bytes();
    }
    return ErrorCode::none;
}

// LogAppendTime topics: the broker's clock replaces maxTimestamp, which changes the CRC, so
// the CRC is checked on the client's bytes first and the edit goes into a copy.
absl::StatusOr<std::vector<std::byte>> stamp_log_append_time(net::kafka::ByteView records,
                                                             int64_t now_ms) {
    std::vector<std::byte> copy(records.begin(), records.end());
    size_t position = 0;
    while (position < copy.size()) {
        RL_ASSIGN_OR_RETURN(auto batch, net::kafka::RecordBatchView::parse(
                                            net::kafka::ByteView(copy).subspan(position)));
        RL_RETURN_IF_ERROR(batch.validate_crc());
        const std::span<std::byte> bytes = std::span(copy).subspan(position, batch.size_bytes());
        net::kafka::set_max_timestamp_and_log_append_time(bytes, now_ms);
        position += bytes.size();
    }
    return copy;
}

io::Task<void> append_one(ShardLocal& local, ProduceItem item, int16_t acks, int16_t version) {
    ProduceResponse::PartitionProduceResponse& out = *item.out;
    Partition* found = local.find(item.topic, item.partition);
    if (found == nullptr) {
        out.error_code = code(local.catalog().find(item.topic) != nullptr
                                  ? ErrorCode::not_leader_or_follower
                                  : ErrorCode::unknown_topic_or_partition);
        co_return;
    }
    Partition::Use partition = found->use();
    std::string_view message;
    const ErrorCode checked = check_batches(item.records, partition->max_message_bytes(), version,
                                            partition->log().config().compact, message);
    if (checked != ErrorCode::none) {
        ++partition->counters().produce_errors;
        out.error_code = code(checked);
        if (!message.empty()) {
            out.error_message = message;
        }
        co_return;
    }
    // Every append returns once stored; acks=all waits for the disk afterwards (finish_produce),
    // so that the connection can read the next request meanwhile.
    const AppendWait wait = AppendWait::in_memory;
    absl::StatusOr<AppendResult> appended;
    if (partition->timestamp_policy() == TimestampPolicy::log_append_time) {
        const int64_t now_ms = Clock::system().now_ms();
        absl::StatusOr<std::vector<std::byte>> stamped =
            stamp_log_append_time(item.records, now_ms);
        if (!stamped.ok()) {
            out.error_code = code(ErrorCode::corrupt_message);
            co_return;
        }
        appended = co_await partition->log().append(*stamped, wait);
        out.log_append_time_ms = now_ms;
    } else {
        appended = co_await partition->log().append(item.records, wait);
    }
    metrics::PartitionCounters& counters = partition->counters();
    if (!appended.ok()) {
        ++counters.produce_errors;
        out.error_code = code(error_for_storage(appended.status()));
        co_return;
    }
    // A duplicate (an idempotent producer's retry) is answered with the original's offsets.
    out.error_code = code(error_for_sequence(appended->sequence));
    if (out.error_code != code(ErrorCode::none)) {
        co_return;
    }
    if (appended->sequence == SequenceVerdict::accept) {
        counters.bytes_in += item.records.size();
        counters.records_in +=
            static_cast<uint64_t>(appended->last_offset - appended->base_offset + 1);
    }
    out.base_offset = appended->base_offset.value();
    out.log_start_offset = partition->log().log_start_offset().value();
    if (acks == -1 && partition->log().config().durability == Durability::always) {
        item.pending->stored = *appended;
        item.pending->waits = true;
    }
}

// On the owning shard, after the stores: each partition's answer once its batches are durable.
io::Task<void> wait_durable_on_shard(ShardLocal& local, std::vector<PendingAck*> pending) {
    for (PendingAck* ack : pending) {
        Partition* found = local.find(ack->topic, ack->partition);
        if (found == nullptr) {
            // Deleted since the store; its log closed before it could say.
            ack->out->error_code = code(ErrorCode::not_leader_or_follower);
            ack->out->base_offset = -1;
            continue;
        }
        Partition::Use partition = found->use();
        const absl::Status status = co_await partition->log().wait_durable(ack->stored);
        if (!status.ok()) {
            ++partition->counters().produce_errors;
            ack->out->error_code = code(error_for_storage(status));
            ack->out->base_offset = -1;
        }
    }
}

io::Task<void> wait_durable_remote(Broker& broker, ShardId shard,
                                   std::vector<PendingAck*> pending) {
    auto call = [&broker, shard, pending = std::move(pending)]() mutable {
        return wait_durable_on_shard(broker.local_of(shard), std::move(pending));
    };
    co_await broker.shards().submit_to(shard, std::move(call));
}

// The deferred half of an acks=all produce: owns everything the answer needs (the request
// frame is gone by now), waits for every partition's sync, and encodes the answer.
io::Task<Reply> finish_produce(Broker& broker, ReplyHeader header, ProduceResponse response,
                               std::deque<std::string> names, std::vector<PendingAck> pending) {
    const int shard_count = broker.shard_count();
    const ShardId here = broker.local().shard().id();
    std::vector<std::vector<PendingAck*>> by_shard(static_cast<size_t>(shard_count));
    for (PendingAck& ack : pending) {
        if (ack.waits) {
            by_shard[ack.shard.value()].push_back(&ack);
        }
    }
    io::TaskGroup shards;
    for (int i = 0; i < shard_count; ++i) {
        auto& acks = by_shard[static_cast<size_t>(i)];
        if (acks.empty()) {
            continue;
        }
        const ShardId shard(static_cast<uint32_t>(i));
        if (shard == here) {
            shards.spawn(wait_durable_on_shard(broker.local(), std::move(acks)));
        } else {
            shards.spawn(wait_durable_remote(broker, shard, std::move(acks)));
        }
    }
    co_await shards.wait_idle();
    (void)names;  // the topic names `response` points at, alive until it is encoded
    co_return encode_reply(header, response);
}

// On the owning shard: every item of this shard at once.
io::Task<void> append_on_shard(ShardLocal& local, std::vector<ProduceItem> items, int16_t acks,
                               int16_t version) {
    io::TaskGroup appends;
    for (const ProduceItem& item : items) {
        appends.spawn(append_one(local, item, acks, version));
    }
    co_await appends.wait_idle();
}

io::Task<void> append_remote(Broker& broker, ShardId shard, std::vector<ProduceItem> items,
                             int16_t acks, int16_t version) {
    auto call = [&broker, shard, items = std::move(items), acks, version]() mutable {
        return append_on_shard(broker.local_of(shard), std::move(items), acks, version);
    };
    co_await broker.shards().submit_to(shard, std::move(call));
}

}  // namespace

io::Task<Reply> handle_produce(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<ProduceRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    const int16_t acks = request->acks;
    ProduceResponse response;
    response.responses.reserve(request->topic_data.size());
    const int shard_count = context.broker.shard_count();
    std::vector<std::vector<ProduceItem>> by_shard(static_cast<size_t>(shard_count));
    size_t partition_count = 0;
    for (const auto& topic : request->topic_data) {
        partition_count += topic.partition_data.size();
    }
    // Reserved up front: items point into it.
    std::vector<PendingAck> pending;
    pending.reserve(acks == -1 ? partition_count : 0);
    for (const auto& topic : request->topic_data) {
        auto& topic_out = response.responses.emplace_back();
        topic_out.name = topic.name;
        topic_out.partition_responses.resize(topic.partition_data.size());
        for (size_t i = 0; i < topic.partition_data.size(); ++i) {
            const auto& partition = topic.partition_data[i];
            auto& out = topic_out.partition_responses[i];
            out.index = partition.index;
            out.base_offset = -1;
            if (acks != 0 && acks != 1 && acks != -1) {
                out.error_code = code(ErrorCode::invalid_required_acks);
                continue;
            }
            const TopicInfo* info = context.local.catalog().find(topic.name);
            if (info == nullptr || partition.index < 0 || partition.index >= info->partitions) {
                out.error_code = code(ErrorCode::unknown_topic_or_partition);
                continue;
            }
            const ShardId owner = shard_for(topic.name, partition.index, shard_count);
            PendingAck* ack = nullptr;
            if (acks == -1) {
                ack = &pending.emplace_back(PendingAck{response.responses.size() - 1, topic.name,
                                                       partition.index, owner, &out, AppendResult{},
                                                       false});
            }
            by_shard[owner.value()].push_back(
                {topic.name, partition.index, partition.records.bytes(), &out, ack});
        }
    }
    // The items point into `request` (the frame) and `response`, both alive until we return.
    io::TaskGroup shards;
    const ShardId here = context.local.shard().id();
    for (int i = 0; i < shard_count; ++i) {
        auto& items = by_shard[static_cast<size_t>(i)];
        if (items.empty()) {
            continue;
        }
        const ShardId shard(static_cast<uint32_t>(i));
        if (shard == here) {
            shards.spawn(append_on_shard(context.local, std::move(items), acks, context.version()));
        } else {
            shards.spawn(
                append_remote(context.broker, shard, std::move(items), acks, context.version()));
        }
    }
    co_await shards.wait_idle();
    if (acks == 0) {
        co_return std::nullopt;
    }
    const bool waits = std::any_of(pending.begin(), pending.end(),
                                   [](const PendingAck& ack) { return ack.waits; });
    if (!waits) {
        co_return encode_reply(context, response);
    }
    // Every batch is stored, in this request's order: the connection may go on with the next
    // request while this one waits for the disk (Kafka's broker reads one request per
    // connection at a time; pipelining them lets one connection keep several syncs busy).
    // The answer must outlive the frame, so the topic names it holds are copied.
    std::deque<std::string> names;
    for (auto& topic_out : response.responses) {
        topic_out.name = names.emplace_back(topic_out.name);
    }
    for (PendingAck& ack : pending) {
        ack.topic = response.responses[ack.topic_index].name;
    }
    co_return net::tcp::Response::deferred(finish_produce(context.broker, ReplyHeader::of(context),
                                                          std::move(response), std::move(names),
                                                          std::move(pending)));
}

}  // namespace ringlog::core::api
