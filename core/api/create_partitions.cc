// CreatePartitions (key 37): grows a topic through the controller. Existing partitions keep
// their shard (the hash includes the partition number), so only the new ones are opened.
#include "net/kafka/generated/create_partitions.h"

#include <deque>
#include <string>

#include "core/api/controller_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_create_partitions(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::CreatePartitionsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::CreatePartitionsResponse response;
    std::deque<std::string> kept;
    for (const auto& topic : request->topics) {
        auto& out = response.results.emplace_back();
        out.name = topic.name;
        absl::Status status = co_await add_partitions(context.broker, std::string(topic.name),
                                                      topic.count, request->validate_only);
        out.error_code = code(error_for_topic_change(status));
        if (!status.ok()) {
            kept.emplace_back(status.message());
            out.error_message = kept.back();
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api
