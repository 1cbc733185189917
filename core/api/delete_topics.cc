// DeleteTopics (key 20): by name (v0-5) or by topic id (v6), through the controller, which
// closes every partition (waiting for the requests using it) and removes its data.
#include "net/kafka/generated/delete_topics.h"

#include <deque>
#include <string>

#include "core/api/controller_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_delete_topics(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::DeleteTopicsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::DeleteTopicsResponse response;
    std::deque<std::string> kept;  // names found by id, error messages
    if (context.version() >= 6) {
        for (const auto& topic : request->topics) {
            auto& out = response.responses.emplace_back();
            out.topic_id = topic.topic_id;
            std::string name;
            if (topic.name.has_value()) {
                name = std::string(*topic.name);
            } else if (const TopicInfo* info = context.local.catalog().find_id(topic.topic_id)) {
                name = info->name;
            } else {
                out.error_code = code(ErrorCode::unknown_topic_id);
                continue;
            }
            kept.push_back(name);
            out.name = kept.back();
            absl::Status status = co_await delete_topic(context.broker, std::move(name));
            out.error_code = code(error_for_topic_change(status));
            if (!status.ok()) {
                kept.emplace_back(status.message());
                out.error_message = kept.back();
            }
        }
    } else {
        for (const std::string_view name : request->topic_names) {
            auto& out = response.responses.emplace_back();
            out.name = name;
            absl::Status status = co_await delete_topic(context.broker, std::string(name));
            out.error_code = code(error_for_topic_change(status));
            if (!status.ok()) {
                kept.emplace_back(status.message());
                out.error_message = kept.back();
            }
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api
