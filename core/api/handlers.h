// The Kafka API handlers, one per file in this folder, and the table of what is served. An API
// is advertised in ApiVersions only when it has a handler here, with exactly the versions the
// codec decodes (net/kafka/generated/api_keys.h).
#pragma once

#include <span>

#include "core/api/request_context.h"
#include "io/task.h"
#include "net/kafka/generated/api_keys.h"

namespace ringlog::core::api {

// The APIs with a handler, sorted by key, each with the codec's version range.
std::span<const net::kafka::ApiVersionRange> served_apis();

const net::kafka::ApiVersionRange* find_served_api(int16_t api_key);

// Runs the handler for context.header's API; the version is known to be served.
[[nodiscard]] io::Task<Reply> dispatch(RequestContext& context, net::kafka::Reader& body);

// ApiVersions for a version it does not support: error 35 in a v0 body (the client reads the
// ApiVersions range from it and retries).
Reply unsupported_api_versions(const RequestContext& context);

io::Task<Reply> handle_api_versions(RequestContext& context, net::kafka::Reader& body);
// Private key 10000 (net/dpdk/control.h), outside the served-API table and never advertised.
io::Task<Reply> handle_open_datagram_session(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_metadata(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_produce(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_fetch(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_list_offsets(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_create_topics(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_delete_topics(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_create_partitions(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_describe_configs(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_find_coordinator(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_init_producer_id(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_join_group(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_sync_group(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_heartbeat(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_leave_group(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_offset_commit(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_offset_fetch(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_list_groups(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_describe_groups(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_delete_groups(RequestContext& context, net::kafka::Reader& body);
io::Task<Reply> handle_offset_delete(RequestContext& context, net::kafka::Reader& body);

}  // namespace ringlog::core::api
