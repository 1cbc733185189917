// ProducerConnection: one connection of the load generator to a partition leader, producing
// to its partitions with several Produce requests in flight (like max.in.flight). A send loop
// builds each request's batches once (BatchBuilder, into buffers the request slot keeps) and
// sends them; a receive loop reads the responses, which come back in request order, and
// records each message's latency from its intended send time.
//
// Open loop (--rate): message i of this connection is meant to leave at start + i / rate. A
// request goes when a batch is full or its oldest message has lingered linger_us; when every
// slot is in flight the loop waits, and the messages that fall due meanwhile keep their
// intended times, so a stall of the broker shows in the latency instead of being hidden
// (no coordinated omission). Closed loop (rate 0): a request goes whenever a slot is free and
// its messages' intended time is the moment it is built.
//
// Keys (--keys): each message's key is drawn first (KeyPicker, among the keys that land on this
// connection's partitions) and the message goes to its key's partition; a request's messages
// are then grouped into one batch per partition they chose. Without keys, a request's batches
// go to the connection's partitions in turn.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <absl/status/status.h>

#include "io/event.h"
#include "io/reactor.h"
#include "io/task.h"
#include "net/kafka/generated/produce.h"
#include "net/kafka/protocol/writer.h"
#include "tools/ringlog/bench/batch_builder.h"
#include "tools/ringlog/bench/key_space.h"
#include "tools/ringlog/bench/recorder.h"
#include "tools/ringlog/bench/request_path.h"
#include "tools/ringlog/bench/run_context.h"

namespace ringlog::tools::bench {

// Contract: created, connected and run on one worker thread's reactor. run() returns once it
// sent everything it was meant to send and every response arrived (or the connection failed,
// or 30 s passed after the end without the last responses: those count as failed).
class ProducerConnection {
public:
    // `rate` messages/s for this connection (0: closed loop); `message_limit` 0: none.
    ProducerConnection(io::Reactor& reactor, RequestPaths& paths, const RunContext& context,
                       Recorder& recorder, std::vector<int32_t> partitions, double rate,
                       uint64_t message_limit, uint64_t seed);

    [[nodiscard]] io::Task<absl::Status> connect(const BrokerAddress& leader);

    [[nodiscard]] io::Task<absl::Status> run();

private:
    struct Slot {
        std::vector<std::vector<std::byte>> batches;  // one per partition of the request
        std::vector<size_t> batch_bytes;              // as sent: header plus (compressed) records
        std::vector<size_t> batch_messages;
        std::vector<int32_t> batch_partitions;
        std::vector<int64_t> intended_ns;  // every message of the request, in batch order
        net::kafka::ProduceRequest request;
        net::kafka::Writer writer;
        std::vector<net::kafka::ByteView> segments;
        int32_t correlation_id = 0;
    };

    [[nodiscard]] io::Task<void> send_loop();
    [[nodiscard]] io::Task<void> receive_loop();
    [[nodiscard]] io::Task<void> sleep_until(int64_t when_ns);
    void build(Slot& slot, size_t messages, int64_t now_ns);
    // The send latency of every message of `slot`, whose request the socket took at `now_ns`.
    void record_sent(const Slot& slot, int64_t now_ns);
    // Keyed: draws the messages' keys and orders slot.intended_ns and key_views_ by the batch
    // (partition) each falls in; fills slot.batch_partitions and slot.batch_messages.
    void group_by_key(Slot& slot, size_t messages);
    void complete_front(const net::kafka::ProduceResponse* response, int64_t now_ns);
    void fail_all_inflight();

    int64_t intended_ns_of(uint64_t index) const {
        return context_.start_ns + static_cast<int64_t>(static_cast<double>(index) * period_ns_);
    }

    io::Reactor& reactor_;
    RequestPaths& paths_;
    const RunContext& context_;
    const BenchOptions& options_;
    Recorder& recorder_;
    std::vector<int32_t> partitions_;
    double period_ns_;  // 0: closed loop
    uint64_t message_limit_;
    BatchBuilder builder_;
    std::optional<KeyPicker> keys_;  // with --keys
    // Keyed requests' scratch, sized up front: the drawn keys, then the batch order.
    std::vector<int32_t> drawn_keys_;
    std::vector<int64_t> drawn_intended_;
    std::vector<std::string_view> key_views_;
    std::vector<int32_t> batch_of_partition_;  // per topic partition: its batch, or -1
    std::vector<size_t> batch_fill_;
    std::unique_ptr<RequestPath> connection_;

    std::vector<Slot> slots_;
    size_t head_ = 0;   // the oldest request in flight
    size_t count_ = 0;  // requests in flight
    uint64_t next_index_ = 0;
    size_t next_partition_ = 0;
    int32_t next_correlation_id_ = 1;
    bool sender_done_ = false;
    bool failed_ = false;
    absl::Status status_;
    absl::Status refused_;  // the first error code a response carried
    net::kafka::ProduceResponse response_;
    io::Notify slot_freed_;
    io::Notify work_;
};

}  // namespace ringlog::tools::bench
