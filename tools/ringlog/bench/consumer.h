// FetchConnection: one connection of the load generator's consumers to a partition leader:
// Fetch long polls for all of its partitions, one request in flight (as a Kafka consumer
// does per broker), each partition's offset advanced past the batches it got. In e2e mode it
// reads every record's value for the send time the producer stamped in it (BatchBuilder) and
// records the end-to-end latency, inflating compressed batches first (one CodecContext and
// output buffer per connection, reused); otherwise it only counts batches and bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "net/kafka/codec_context.h"
#include "net/kafka/generated/fetch.h"
#include "net/kafka/protocol/writer.h"
#include "net/kafka/record_batch.h"
#include "tools/ringlog/bench/recorder.h"
#include "tools/ringlog/bench/request_path.h"
#include "tools/ringlog/bench/run_context.h"

namespace ringlog::tools::bench {

// Contract: created, connected and run on one worker thread's reactor. run() returns when the
// run is over: in consume mode at the end time or once all consumers together have --messages; in
// e2e mode once every producer is done and all they had acknowledged was fetched (or 30 s after the
// end).
class FetchConnection {
public:
    FetchConnection(io::Reactor& reactor, RequestPaths& paths, const RunContext& context,
                    Recorder& recorder, std::vector<int32_t> partitions,
                    std::vector<int64_t> offsets);

    [[nodiscard]] io::Task<absl::Status> connect(const BrokerAddress& leader);

    [[nodiscard]] io::Task<absl::Status> run();

private:
    bool finished(int64_t now_ns) const;
    absl::Status take(const net::kafka::FetchResponse& response, int64_t now_ns);
    // e2e: one batch's stamps into the latency histograms; returns how many were measured.
    absl::StatusOr<uint64_t> record_stamps(const net::kafka::RecordBatchView& batch,
                                           int64_t now_ns);

    io::Reactor& reactor_;
    RequestPaths& paths_;
    const RunContext& context_;
    const BenchOptions& options_;
    Recorder& recorder_;
    std::vector<int32_t> partitions_;
    std::vector<int64_t> offsets_;
    std::unique_ptr<RequestPath> connection_;
    net::kafka::FetchRequest request_;
    net::kafka::FetchResponse response_;
    net::kafka::Writer writer_;
    std::vector<net::kafka::ByteView> segments_;
    net::kafka::CodecContext codec_;
    std::vector<std::byte> inflated_;  // a compressed batch's records
};

}  // namespace ringlog::tools::bench
