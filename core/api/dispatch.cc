// The served-API table and the switch from API key to handler.
#include <algorithm>
#include <array>

#include "core/api/handlers.h"
#include "core/metrics/shard_metrics.h"

namespace ringlog::core::api {
namespace {

using net::kafka::ApiKey;

constexpr std::array served_keys = {
    ApiKey::produce,          ApiKey::fetch,
    ApiKey::list_offsets,     ApiKey::metadata,
    ApiKey::offset_commit,    ApiKey::offset_fetch,
    ApiKey::find_coordinator, ApiKey::join_group,
    ApiKey::heartbeat,        ApiKey::leave_group,
    ApiKey::sync_group,       ApiKey::describe_groups,
    ApiKey::list_groups,      ApiKey::api_versions,
    ApiKey::create_topics,    ApiKey::delete_topics,
    ApiKey::describe_configs, ApiKey::create_partitions,
    ApiKey::init_producer_id, ApiKey::delete_groups,
    ApiKey::offset_delete,
};

constexpr bool is_served(ApiKey key) {
    return std::find(served_keys.begin(), served_keys.end(), key) != served_keys.end();
}

constexpr size_t served_count = [] {
    size_t count = 0;
    for (const auto& range : net::kafka::supported_api_versions) {
        count += is_served(range.api_key) ? 1 : 0;
    }
    return count;
}();

// Every served key must be one the codec covers, and have a slot in the shard's counters.
static_assert(served_count == served_keys.size());
static_assert([] {
    for (const ApiKey key : served_keys) {
        if (static_cast<size_t>(key) >= metrics::ShardMetrics::api_key_count) {
            return false;
        }
    }
    return true;
}());

constexpr std::array<net::kafka::ApiVersionRange, served_count> served_table = [] {
    std::array<net::kafka::ApiVersionRange, served_count> table{};
    size_t i = 0;
    for (const auto& range : net::kafka::supported_api_versions) {
        if (is_served(range.api_key)) {
            table[i++] = range;
        }
    }
    return table;
}();

}  // namespace

std::span<const net::kafka::ApiVersionRange> served_apis() {
    return served_table;
}

const net::kafka::ApiVersionRange* find_served_api(int16_t api_key) {
    for (const auto& range : served_table) {
        if (static_cast<int16_t>(range.api_key) == api_key) {
            return &range;
        }
    }
    return nullptr;
}

io::Task<Reply> dispatch(RequestContext& context, net::kafka::Reader& body) {
    switch (static_cast<ApiKey>(context.header.request_api_key)) {
        case ApiKey::produce:
            co_return co_await handle_produce(context, body);
        case ApiKey::fetch:
            co_return co_await handle_fetch(context, body);
        case ApiKey::list_offsets:
            co_return co_await handle_list_offsets(context, body);
        case ApiKey::metadata:
            co_return co_await handle_metadata(context, body);
        case ApiKey::offset_commit:
            co_return co_await handle_offset_commit(context, body);
        case ApiKey::offset_fetch:
            co_return co_await handle_offset_fetch(context, body);
        case ApiKey::find_coordinator:
            co_return co_await handle_find_coordinator(context, body);
        case ApiKey::join_group:
            co_return co_await handle_join_group(context, body);
        case ApiKey::heartbeat:
            co_return co_await handle_heartbeat(context, body);
        case ApiKey::leave_group:
            co_return co_await handle_leave_group(context, body);
        case ApiKey::sync_group:
            co_return co_await handle_sync_group(context, body);
        case ApiKey::describe_groups:
            co_return co_await handle_describe_groups(context, body);
        case ApiKey::list_groups:
            co_return co_await handle_list_groups(context, body);
        case ApiKey::delete_groups:
            co_return co_await handle_delete_groups(context, body);
        case ApiKey::offset_delete:
            co_return co_await handle_offset_delete(context, body);
        case ApiKey::api_versions:
            co_return co_await handle_api_versions(context, body);
        case ApiKey::create_topics:
            co_return co_await handle_create_topics(context, body);
        case ApiKey::delete_topics:
            co_return co_await handle_delete_topics(context, body);
        case ApiKey::describe_configs:
            co_return co_await handle_describe_configs(context, body);
        case ApiKey::create_partitions:
            co_return co_await handle_create_partitions(context, body);
        case ApiKey::init_producer_id:
            co_return co_await handle_init_producer_id(context, body);
        default:
            break;
    }
    RL_ASSERT(false, "dispatch of unserved API %d", int(context.header.request_api_key));
    co_return std::nullopt;
}

}  // namespace ringlog::core::api
