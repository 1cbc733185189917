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
      builder_(options_.msg_bytes, KeySpace::key_bytes, options_.value_entropy_bits,
               options_.compression, seed),
      slots_(static_cast<size_t>(options_.inflight)) {
    RL_ASSERT(!partitions_.empty());
    // Size every buffer up front so that the measured run allocates nothing per request.
    const size_t per_request =
        options_.batch_messages() * static_cast<size_t>(options_.request_partitions);
    const size_t batches_max = context_.key_space != nullptr
                                   ? std::min(per_request, partitions_.size())
                                   : static_cast<size_t>(options_.request_partitions);
    for (Slot& slot : slots_) {
        slot.intended_ns.reserve(per_request);
        slot.segments.reserve(16 + 2 * batches_max);
        slot.batch_bytes.reserve(batches_max);
        slot.batch_messages.reserve(batches_max);
        slot.batch_partitions.reserve(batches_max);
        slot.request.topic_data.reserve(1);
    }
    if (context_.key_space != nullptr) {
        keys_.emplace(*context_.key_space, partitions_, seed ^ 0x6a09e667f3bcc909ULL);
        RL_ASSERT(!keys_->empty(), "the runner gives no connection without keys a share");
        drawn_keys_.reserve(per_request);
        drawn_intended_.reserve(per_request);
        key_views_.reserve(per_request);
        batch_fill_.reserve(batches_max);
        batch_of_partition_.assign(context_.cluster->leaders.size(), -1);
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
        // The slot's stamps stay until build() reuses it, even if its answer came already.
        record_sent(slot, steady_now_ns());
        if (options_.acks == 0) {
            // No response comes: a request is done once the kernel has its bytes.
            complete_front(nullptr, steady_now_ns());
        }
    }
    sender_done_ = true;
    work_.notify_all();
}

void ProducerConnection::group_by_key(Slot& slot, size_t messages) {
    drawn_keys_.resize(messages);
    drawn_intended_.assign(slot.intended_ns.begin(), slot.intended_ns.end());
    slot.batch_partitions.clear();
    batch_fill_.clear();
    // Count the messages of each partition the keys chose, batches in order of first use.
    for (size_t i = 0; i < messages; ++i) {
        drawn_keys_[i] = keys_->next();
        const auto partition =
            static_cast<size_t>(context_.key_space->partition_of(drawn_keys_[i]));
        if (batch_of_partition_[partition] < 0) {
            batch_of_partition_[partition] = static_cast<int32_t>(slot.batch_partitions.size());
            slot.batch_partitions.push_back(static_cast<int32_t>(partition));
            batch_fill_.push_back(0);
        }
        ++batch_fill_[static_cast<size_t>(batch_of_partition_[partition])];
    }
    // Turn counts into each batch's first position, then place every message (a stable
    // counting sort, so each batch keeps its messages' due order).
    slot.batch_messages.assign(batch_fill_.begin(), batch_fill_.end());
    size_t position = 0;
    for (size_t& fill : batch_fill_) {
        const size_t count = fill;
        fill = position;
        position += count;
    }
    key_views_.resize(messages);
    for (size_t i = 0; i < messages; ++i) {
        const auto partition =
            static_cast<size_t>(context_.key_space->partition_of(drawn_keys_[i]));
        const size_t at = batch_fill_[static_cast<size_t>(batch_of_partition_[partition])]++;
        slot.intended_ns[at] = drawn_intended_[i];
        key_views_[at] = context_.key_space->key(drawn_keys_[i]);
    }
    for (const int32_t partition : slot.batch_partitions) {
        batch_of_partition_[static_cast<size_t>(partition)] = -1;
    }
}

void ProducerConnection::build(Slot& slot, size_t messages, int64_t now_ns) {
    slot.intended_ns.resize(messages);
    for (size_t i = 0; i < messages; ++i) {
        slot.intended_ns[i] = period_ns_ > 0 ? intended_ns_of(next_index_ + i) : now_ns;
    }
    size_t batches = 0;
    if (keys_.has_value()) {
        group_by_key(slot, messages);
        batches = slot.batch_partitions.size();
    } else {
        batches = std::min(
            {messages, partitions_.size(), static_cast<size_t>(options_.request_partitions)});
        slot.batch_messages.resize(batches);
        slot.batch_partitions.resize(batches);
        for (size_t j = 0; j < batches; ++j) {
            slot.batch_messages[j] = messages / batches + (j < messages % batches ? 1 : 0);
            slot.batch_partitions[j] = partitions_[next_partition_++ % partitions_.size()];
        }
    }
    if (slot.batches.size() < batches) {
        slot.batches.resize(batches);
    }
    slot.batch_bytes.resize(batches);
    slot.request.acks = options_.acks;
    slot.request.timeout_ms = 30000;
    slot.request.topic_data.resize(1);
    net::kafka::ProduceRequest::TopicProduceData& topic = slot.request.topic_data[0];
    topic.name = options_.topic;
    topic.partition_data.resize(batches);
    const int64_t timestamp_ms = wall_now_ms();
    size_t first = 0;
    for (size_t j = 0; j < batches; ++j) {
        const size_t count = slot.batch_messages[j];
        const std::span<const std::string_view> keys =
            keys_.has_value() ? std::span<const std::string_view>(key_views_).subspan(first, count)
                              : std::span<const std::string_view>();
        slot.batch_bytes[j] = builder_.build(
            slot.batches[j], std::span<const int64_t>(slot.intended_ns).subspan(first, count), keys,
            next_index_ + first, timestamp_ms);
        topic.partition_data[j].index = slot.batch_partitions[j];
        topic.partition_data[j].records.reset();
        topic.partition_data[j].records.append(
            net::kafka::ByteView(slot.batches[j].data(), slot.batch_bytes[j]));
        first += count;
    }
    RL_ASSERT(first == messages);
    next_index_ += messages;
    slot.correlation_id = next_correlation_id_++;
    encode_request(slot.writer, slot.request, context_.cluster->versions.produce,
                   slot.correlation_id);
    slot.segments.clear();
    slot.writer.gather(slot.segments);
}

void ProducerConnection::record_sent(const Slot& slot, int64_t now_ns) {
    for (const int64_t intended : slot.intended_ns) {
        const auto latency = static_cast<uint64_t>(std::max<int64_t>(0, now_ns - intended));
        recorder_.second.send_latency.record(latency);
        if (context_.measured(intended)) {
            recorder_.measured.send_latency.record(latency);
        }
    }
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
            recorder_.second.produced_wire_bytes += slot.batch_bytes[j];
            uint64_t measured = 0;
            for (size_t i = first; i < first + count; ++i) {
                const int64_t intended = slot.intended_ns[i];
                const auto latency = static_cast<uint64_t>(std::max<int64_t>(0, now_ns - intended));
                recorder_.second.produce_latency.record(latency);
                if (context_.measured(intended)) {
                    ++measured;
                    recorder_.measured.produce_latency.record(latency);
                }
            }
            recorder_.measured.produced += measured;
            recorder_.measured.produced_bytes += measured * options_.msg_bytes;
            // A batch straddling the window's edge counts its measured messages' share.
            recorder_.measured.produced_wire_bytes += slot.batch_bytes[j] * measured / count;
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
