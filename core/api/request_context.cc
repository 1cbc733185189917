#include "core/api/request_context.h"

#include <cstdio>

namespace ringlog::core::api {

void RequestContext::close_connection(const absl::Status& why) const {
    std::fprintf(stderr, "ringlogd: closing a connection after %s v%d (client %s): %s\n",
                 std::string(net::kafka::api_key_name(header.request_api_key)).c_str(),
                 header.request_api_version, std::string(header.client_id.value_or("-")).c_str(),
                 std::string(why.message()).c_str());
    if (connection != nullptr) {
        connection->close();
    }
}

ErrorCode error_for_storage(const absl::Status& status) {
    switch (status.code()) {
        case absl::StatusCode::kOk:
            return ErrorCode::none;
        case absl::StatusCode::kInvalidArgument:
        case absl::StatusCode::kDataLoss:
            return ErrorCode::corrupt_message;
        case absl::StatusCode::kOutOfRange:
            return ErrorCode::offset_out_of_range;
        case absl::StatusCode::kNotFound:
            return ErrorCode::unknown_topic_or_partition;
        case absl::StatusCode::kFailedPrecondition:
            // The log is closing (topic deleted, broker stopping): the client looks again.
            return ErrorCode::not_leader_or_follower;
        case absl::StatusCode::kDeadlineExceeded:
            return ErrorCode::request_timed_out;
        default:
            // The disk refused (EIO, ENOSPC): the log stays consistent, the write is not done.
            return ErrorCode::kafka_storage_error;
    }
}

ErrorCode error_for_sequence(SequenceVerdict verdict) {
    switch (verdict) {
        case SequenceVerdict::accept:
        case SequenceVerdict::duplicate:
            return ErrorCode::none;
        case SequenceVerdict::duplicate_untracked:
            // librdkafka and the Java client take it as "stored already" (no offset known).
            return ErrorCode::duplicate_sequence_number;
        case SequenceVerdict::out_of_order:
            return ErrorCode::out_of_order_sequence_number;
        case SequenceVerdict::invalid_epoch:
            // Kafka's answer to a Produce from a fenced epoch at every version; PRODUCER_FENCED
            // (90) is for the transactional APIs.
            return ErrorCode::invalid_producer_epoch;
    }
    return ErrorCode::unknown_server_error;
}

}  // namespace ringlog::core::api
