// FetchConnection: see consumer.h.
#include "tools/ringlog/bench/consumer.h"

#include <algorithm>
#include <chrono>

#include <absl/strings/str_cat.h>

#include "net/kafka/record_batch.h"
#include "net/kafka/varint.h"
#include "tools/ringlog/bench/batch_builder.h"
#include "tools/ringlog/bench/kafka_client.h"

namespace ringlog::tools::bench {

namespace {

constexpr int64_t drain_timeout_ns = 30'000'000'000;

}  // namespace

FetchConnection::FetchConnection(io::Reactor& reactor, RequestPaths& paths,
                                 const RunContext& context, Recorder& recorder,
                                 std::vector<int32_t> partitions, std::vector<int64_t> offsets)
    : reactor_(reactor),
      paths_(paths),
      context_(context),
      options_(*context.options),
      recorder_(recorder),
      partitions_(std::move(partitions)),
      offsets_(std::move(offsets)) {
    RL_ASSERT(partitions_.size() == offsets_.size());
    request_.replica_id = -1;
    request_.max_wait_ms = options_.fetch_max_wait_ms;
    request_.min_bytes = 1;
    request_.max_bytes = 64 * 1024 * 1024;
    request_.isolation_level = 0;
    request_.session_id = 0;
    request_.session_epoch = -1;
    request_.topics.resize(1);
    request_.topics[0].topic = options_.topic;
    request_.topics[0].partitions.resize(partitions_.size());
    for (size_t i = 0; i < partitions_.size(); ++i) {
        request_.topics[0].partitions[i].partition = partitions_[i];
        request_.topics[0].partitions[i].partition_max_bytes = options_.partition_fetch_bytes;
    }
}

io::Task<absl::Status> FetchConnection::connect(const BrokerAddress& leader) {
    absl::StatusOr<std::unique_ptr<RequestPath>> connection =
        co_await paths_.connect(leader, partitions_.front());
    if (!connection.ok()) {
        co_return connection.status();
    }
    connection_ = *std::move(connection);
    co_return absl::OkStatus();
}

bool FetchConnection::finished(int64_t now_ns) const {
    // --messages counts over every consumer: partitions need not hold equal shares.
    if (options_.mode == Mode::consume && options_.messages > 0
        && context_.consumed_total.load(std::memory_order_relaxed) >= options_.messages) {
        return true;
    }
    if (options_.mode != Mode::e2e) {
        return now_ns >= context_.end_ns;
    }
    if (now_ns >= context_.end_ns + drain_timeout_ns) {
        return true;
    }
    return context_.producers_running.load(std::memory_order_acquire) == 0
           && context_.consumed_total.load(std::memory_order_relaxed)
                  >= context_.produced_total.load(std::memory_order_relaxed);
}

io::Task<absl::Status> FetchConnection::run() {
    RL_ASSERT(connection_ != nullptr);
    int32_t correlation_id = 0;
    absl::Status status;
    const int64_t wait = context_.start_ns - steady_now_ns();
    if (wait > 0) {
        co_await reactor_.sleep_for(std::chrono::nanoseconds(wait));
    }
    while (!finished(steady_now_ns())) {
        for (size_t i = 0; i < partitions_.size(); ++i) {
            request_.topics[0].partitions[i].fetch_offset = offsets_[i];
        }
        ++correlation_id;
        encode_request(writer_, request_, context_.cluster->versions.fetch, correlation_id);
        segments_.clear();
        writer_.gather(segments_);
        const int64_t sent_ns = steady_now_ns();
        status = co_await connection_->send(segments_, true);
        if (!status.ok()) {
            break;
        }
        absl::StatusOr<std::span<const std::byte>> frame = co_await connection_->next_frame();
        if (!frame.ok()) {
            status = frame.status();
            break;
        }
        const int64_t now = steady_now_ns();
        status =
            decode_response(*frame, context_.cluster->versions.fetch, correlation_id, response_);
        if (!status.ok()) {
            break;
        }
        const auto round_trip = static_cast<uint64_t>(now - sent_ns);
        recorder_.second.fetch_latency.record(round_trip);
        if (context_.measured(sent_ns)) {
            recorder_.measured.fetch_latency.record(round_trip);
        }
        status = take(response_, now);
        if (!status.ok()) {
            break;
        }
    }
    connection_->close();
    co_await connection_->drain();
    co_return status;
}

absl::Status FetchConnection::take(const net::kafka::FetchResponse& response, int64_t now_ns) {
    if (response.error_code != 0) {
        return absl::UnavailableError(absl::StrCat("Fetch: error ", response.error_code));
    }
    uint64_t taken = 0;
    const bool e2e = options_.mode == Mode::e2e;
    for (const auto& topic : response.responses) {
        for (const auto& partition : topic.partitions) {
            if (partition.error_code != 0) {
                return absl::UnavailableError(absl::StrCat("Fetch partition ",
                                                           partition.partition_index, ": error ",
                                                           partition.error_code));
            }
            const auto slot =
                std::find(partitions_.begin(), partitions_.end(), partition.partition_index);
            if (slot == partitions_.end() || partition.records.is_null()) {
                continue;
            }
            int64_t& offset = offsets_[static_cast<size_t>(slot - partitions_.begin())];
            net::kafka::ByteView bytes = partition.records.bytes();
            while (bytes.size() >= net::kafka::batch_header_bytes) {
                absl::StatusOr<net::kafka::RecordBatchView> batch =
                    net::kafka::RecordBatchView::parse(bytes);
                if (!batch.ok()) {
                    break;  // a partial batch at the end of a fetch is normal
                }
                bytes = bytes.subspan(batch->size_bytes());
                if (batch->last_offset() < offset) {
                    continue;
                }
                const auto count = static_cast<uint64_t>(batch->records_count());
                const auto wire_bytes = static_cast<uint64_t>(batch->size_bytes());
                offset = batch->last_offset() + 1;
                taken += count;
                recorder_.second.consumed += count;
                recorder_.second.consumed_bytes += count * options_.msg_bytes;
                recorder_.second.consumed_wire_bytes += wire_bytes;
                if (e2e) {
                    absl::StatusOr<uint64_t> measured = record_stamps(*batch, now_ns);
                    if (!measured.ok()) {
                        return measured.status();
                    }
                    recorder_.measured.consumed += *measured;
                    recorder_.measured.consumed_bytes += *measured * options_.msg_bytes;
                    recorder_.measured.consumed_wire_bytes +=
                        count > 0 ? wire_bytes * *measured / count : 0;
                } else if (context_.measured(now_ns)) {
                    recorder_.measured.consumed += count;
                    recorder_.measured.consumed_bytes += count * options_.msg_bytes;
                    recorder_.measured.consumed_wire_bytes += wire_bytes;
                }
            }
        }
    }
    if (taken > 0) {
        recorder_.last_event_ns = now_ns;
    }
    recorder_.consumed += taken;
    context_.consumed_total.fetch_add(taken, std::memory_order_relaxed);
    return absl::OkStatus();
}

absl::StatusOr<uint64_t> FetchConnection::record_stamps(const net::kafka::RecordBatchView& batch,
                                                        int64_t now_ns) {
    std::span<const std::byte> records = batch.records_bytes();
    if (batch.compression() != net::kafka::Compression::none) {
        // The bound: what the producers' records can take (BatchBuilder), with room to spare.
        const size_t bound = static_cast<size_t>(batch.records_count())
                                 * (options_.msg_bytes + 64 + KeySpace::key_bytes)
                             + 4096;
        absl::StatusOr<size_t> size =
            codec_.decompress(batch.compression(), records, bound, inflated_);
        if (!size.ok()) {
            return absl::DataLossError(
                absl::StrCat("Fetch: a batch that does not inflate: ", size.status().message()));
        }
        records = std::span<const std::byte>(inflated_.data(), *size);
    }
    uint64_t measured = 0;
    const bool ok = for_each_record_value(
        records, batch.records_count(), [&](std::span<const std::byte> value) {
            PayloadStamp stamp{};
            if (!read_payload_stamp(value, stamp)) {
                return;
            }
            const auto latency =
                static_cast<uint64_t>(std::max<int64_t>(0, now_ns - stamp.intended_ns));
            recorder_.second.e2e_latency.record(latency);
            if (context_.measured(stamp.intended_ns)) {
                ++measured;
                recorder_.measured.e2e_latency.record(latency);
            }
        });
    if (!ok) {
        return absl::DataLossError("Fetch: a malformed record");
    }
    return measured;
}

}  // namespace ringlog::tools::bench
