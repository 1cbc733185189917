// SessionGrant: what a server tells a client when it opens a datagram session (over the TCP
// control request, core/api/open_datagram_session.cc, or directly in tests): the session's id
// and the limits both sides keep to.
#pragma once

#include <cstdint>

namespace ringlog::net::dpdk {

struct SessionGrant {
    uint32_t session_id = 0;
    uint32_t credits = 32;  // packets the client may have unanswered at once
    uint32_t window = 32;   // requests in flight at once (slots of the server's response cache)
    // The largest datagram (our header included) either side sends in this session: the
    // smaller of what the two sides' PacketIo can carry.
    uint32_t datagram_bytes_max = 1472;
};

}  // namespace ringlog::net::dpdk
