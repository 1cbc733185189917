// ProducerConnection: see producer.h.
#include "tools/ringlog/bench/producer.h"

#include <algorithm>
#include <chrono>

#include <absl/strings/str_cat.h>

#include "io/task_group.h"
#include "tools/ringlog/bench/kafka_client.h"

namespace ringlog::tools::bench {

namespace {

// How long run() waits after the end for the last responses.
constexpr int64_t drain_timeout_ns = 30'000'000'000;
// --busy-poll: waits shorter than this spin (longer ones, such as the start, sleep).
constexpr int64_t busy_sleep_ns_max = 10'000'000;

}  // namespace

ProducerConnection::ProducerConnection(io::Reactor& reactor, RequestPaths& paths,
                                       const RunContext& context, Recorder& recorder,
                                       std::vector<int32_t> partitions, double rate,
                                       uint64_t message_limit, uint64_t seed)
    : reactor_(reactor),
      paths_(paths),
      context_(context),
      options_(*context.options),
      recorder_(recorder),
      partitions_(std::move(partitions)),
      period_ns_(rate > 0 ? 1e9 / rate : 0),
      message_limit_(message_limit),
      builder_(options_.msg_bytes, options_.keys, seed),
      slots_(static_cast<size_t>(options_.inflight)) {
    RL_ASSERT(!partitions_.empty());
    // Size every buffer up front so that the measured run allocates nothing per request.
    const size_t per_request =
        options_.batch_messages() * static_cast<size_t>(options_.request_partitions);
    for (Slot& slot : slots_) {
        slot.intended_ns.reserve(per_request);
        slot.segments.reserve(16);
    }
}

io::Task<absl::Status> ProducerConnection::connect(const BrokerAddress& leader) {
    absl::StatusOr<std::unique_ptr<RequestPath>> connection =
        co_await paths_.connect(leader, partitions_.front());
    if (!connection.ok()) {
        co_return connection.status();
    }
    connection_ = *std::move(connection);
    co_return absl::OkStatus();
}

io::Task<void> ProducerConnection::sleep_until(int64_t when_ns) {
    int64_t wait = when_ns - steady_now_ns();
    if (options_.busy_poll) {
        // A kernel timer's completion is seen only at the loop's next io_uring_enter (every
        // 16th idle turn) and fires a few microseconds late itself; spinning through the loop
        // sends on time, to a turn (the thread has a core to itself by choice).
        while (wait > 0 && wait < busy_sleep_ns_max) {
            co_await reactor_.yield();
            wait = when_ns - steady_now_ns();
        }
    }
    if (wait > 0) {
        co_await reactor_.sleep_for(std::chrono::nanoseconds(wait));
    }
}

io::Task<absl::Status> ProducerConnection::run() {
    RL_ASSERT(connection_ != nullptr);
    io::TaskGroup receiver;
    receiver.spawn(receive_loop());
    co_await send_loop();
    const int64_t deadline = std::max(steady_now_ns(), context_.end_ns) + drain_timeout_ns;
    while (count_ > 0 && !failed_) {
        const int64_t remaining = deadline - steady_now_ns();
        if (remaining <= 0) {
            break;
        }
        (void)co_await slot_freed_.wait_for(std::chrono::nanoseconds(remaining));
    }
    if (count_ > 0) {
        if (status_.ok()) {
            status_ = absl::DeadlineExceededError("responses still missing 30 s after the end");
        }
        fail_all_inflight();
    }
    sender_done_ = true;
    work_.notify_all();
    connection_->close();
    co_await receiver.wait_idle();
    co_await connection_->drain();
    co_return status_.ok() ? refused_ : status_;
}

io::Task<void> ProducerConnection::send_loop() {
    const size_t request_messages_max =
        options_.batch_messages()
        * std::min(partitions_.size(), static_cast<size_t>(options_.request_partitions));
    // Open loop: the messages meant to leave before the end.
    uint64_t index_end = UINT64_MAX;
    if (period_ns_ > 0) {
        index_end = static_cast<uint64_t>(
            std::ceil(static_cast<double>(context_.end_ns - context_.start_ns) / period_ns_));
    }
    if (message_limit_ > 0) {
        index_end = std::min(index_end, message_limit_);
    }
    // Every worker starts at the same moment, a little after the barrier.
    co_await sleep_until(context_.start_ns);
    while (!failed_) {
        if (count_ == slots_.size()) {
            co_await slot_freed_.wait();
            continue;
        }
        if (next_index_ >= index_end) {
            break;
        }
        const int64_t now = steady_now_ns();
        size_t messages = 0;
        if (period_ns_ > 0) {
            const int64_t next_due = intended_ns_of(next_index_);
            if (next_due > now) {
                co_await sleep_until(next_due);
                continue;
            }
            // Messages whose time has come: indexes next_index_ .. due_end - 1.
            uint64_t due_end =
                static_cast<uint64_t>(static_cast<double>(now - context_.start_ns) / period_ns_)
                + 1;
            due_end = std::min(due_end, index_end);
            const uint64_t due = due_end - next_index_;
            if (due < request_messages_max && due_end < index_end) {
                // A partial batch waits until it is full or its oldest message has lingered.
                const int64_t linger_end = next_due + options_.linger_us * 1000;
                const int64_t full_at = intended_ns_of(next_index_ + request_messages_max - 1);
                const int64_t wake = std::min(linger_end, full_at);
                if (wake > now) {
                    co_await sleep_until(wake);
                    continue;
                }
            }
            messages = static_cast<size_t>(std::min<uint64_t>(due, request_messages_max));
        } else {
            if (now >= context_.end_ns) {
                break;
            }
            messages = static_cast<size_t>(
                std::min<uint64_t>(request_messages_max, index_end - next_index_));
        }
        Slot& slot = slots_[(head_ + count_) % slots_.size()];
        build(slot, messages, now);
        ++count_;
        work_.notify_all();
        recorder_.sent += messages;
        const absl::Status sent = co_await connection_->send(slot.segments, options_.acks != 0);
        if (!sent.ok()) {
            if (status_.ok()) {
                status_ = sent;
            }
            failed_ = true;
            fail_all_inflight();
            break;
        }
        if (options_.acks == 0) {
            // No response comes: a request is done once the kernel has its bytes.
            complete_front(nullptr, steady_now_ns());
        }
    }
    sender_done_ = true;
    work_.notify_all();
}

void ProducerConnection::build(Slot& slot, size_t messages, int64_t now_ns) {
    const size_t batches =
        std::min({messages, partitions_.size(), static_cast<size_t>(options_.request_partitions)});
    slot.intended_ns.resize(messages);
    for (size_t i = 0; i < messages; ++i) {
        slot.intended_ns[i] = period_ns_ > 0 ? intended_ns_of(next_index_ + i) : now_ns;
    }
    if (slot.batches.size() < batches) {
        slot.batches.resize(batches);
    }
    slot.batch_bytes.resize(batches);
    slot.batch_messages.resize(batches);
    slot.batch_partitions.resize(batches);
    slot.request.acks = options_.acks;
    slot.request.timeout_ms = 30000;
    slot.request.topic_data.resize(1);
    net::kafka::ProduceRequest::TopicProduceData& topic = slot.request.topic_data[0];
    topic.name = options_.topic;
    topic.partition_data.resize(batches);
    const int64_t timestamp_ms = wall_now_ms();
    size_t first = 0;
    for (size_t j = 0; j < batches; ++j) {
        const size_t count = messages / batches + (j < messages % batches ? 1 : 0);
        const int32_t partition = partitions_[next_partition_++ % partitions_.size()];
        slot.batch_messages[j] = count;
        slot.batch_partitions[j] = partition;
        slot.batch_bytes[j] = builder_.build(
            slot.batches[j], std::span<const int64_t>(slot.intended_ns).subspan(first, count),
            next_index_ + first, timestamp_ms);
        topic.partition_data[j].index = partition;
        topic.partition_data[j].records.reset();
        topic.partition_data[j].records.append(
            net::kafka::ByteView(slot.batches[j].data(), slot.batch_bytes[j]));
        first += count;
    }
    next_index_ += messages;
    slot.correlation_id = next_correlation_id_++;
    encode_request(slot.writer, slot.request, context_.cluster->versions.produce,
                   slot.correlation_id);
    slot.segments.clear();
    slot.writer.gather(slot.segments);
}

io::Task<void> ProducerConnection::receive_loop() {
    for (;;) {
        if (count_ == 0 || options_.acks == 0) {
            if (sender_done_) {
                break;
            }
            co_await work_.wait();
            continue;
        }
        absl::StatusOr<std::span<const std::byte>> frame = co_await connection_->next_frame();
        if (!frame.ok()) {
            if (count_ > 0) {
                if (status_.ok()) {
                    status_ = frame.status();
                }
                failed_ = true;
                fail_all_inflight();
            }
            break;
        }
        const int64_t now = steady_now_ns();
        const absl::Status decoded = decode_response(*frame, context_.cluster->versions.produce,
                                                     slots_[head_].correlation_id, response_);
        if (!decoded.ok()) {
            if (status_.ok()) {
                status_ = decoded;
            }
            failed_ = true;
            fail_all_inflight();
            break;
        }
        complete_front(&response_, now);
    }
    slot_freed_.notify_all();
}

void ProducerConnection::complete_front(const net::kafka::ProduceResponse* response,
                                        int64_t now_ns) {
    RL_ASSERT(count_ > 0);
    Slot& slot = slots_[head_];
    size_t first = 0;
    uint64_t acked = 0;
    for (size_t j = 0; j < slot.batch_messages.size(); ++j) {
        const size_t count = slot.batch_messages[j];
        int16_t error = response == nullptr ? 0 : -1;  // -1: no answer for the partition
        if (response != nullptr) {
            for (const auto& topic : response->responses) {
                for (const auto& partition : topic.partition_responses) {
                    if (partition.index == slot.batch_partitions[j]) {
                        error = partition.error_code;
                    }
                }
            }
        }
        if (error == 0) {
            acked += count;
            recorder_.second.produced += count;
            recorder_.second.produced_bytes += count * options_.msg_bytes;
            for (size_t i = first; i < first + count; ++i) {
                const int64_t intended = slot.intended_ns[i];
                const auto latency = static_cast<uint64_t>(std::max<int64_t>(0, now_ns - intended));
                recorder_.second.produce_latency.record(latency);
                if (context_.measured(intended)) {
                    ++recorder_.measured.produced;
                    recorder_.measured.produced_bytes += options_.msg_bytes;
                    recorder_.measured.produce_latency.record(latency);
                }
            }
        } else {
            if (refused_.ok()) {
                // The first refusal is reported; the run goes on, counting what fails.
                refused_ = absl::FailedPreconditionError(absl::StrCat(
                    "produce to partition ", slot.batch_partitions[j], ": Kafka error ", error));
            }
            recorder_.failed += count;
            recorder_.second.failed += count;
            recorder_.measured.failed += count;
        }
        first += count;
    }
    recorder_.acked += acked;
    recorder_.last_event_ns = now_ns;
    context_.produced_total.fetch_add(acked, std::memory_order_relaxed);
    head_ = (head_ + 1) % slots_.size();
    --count_;
    slot_freed_.notify_all();
}

void ProducerConnection::fail_all_inflight() {
    while (count_ > 0) {
        Slot& slot = slots_[head_];
        recorder_.failed += slot.intended_ns.size();
        recorder_.second.failed += slot.intended_ns.size();
        head_ = (head_ + 1) % slots_.size();
        --count_;
    }
    slot_freed_.notify_all();
}

}  // namespace ringlog::tools::bench
