// CachedResponse: see cached_response.h.
#include "net/dpdk/cached_response.h"

namespace ringlog::net::dpdk {

CachedResponse* CachedResponse::make(tcp::Response response) {
    return new CachedResponse(std::move(response));
}

CachedResponse::CachedResponse(tcp::Response response) : response_(std::move(response)) {
    // The frame without its 4-byte size prefix: the datagram header carries the length.
    size_t skip = 4;
    for (const Bytes segment : response_.segments()) {
        if (skip >= segment.size()) {
            skip -= segment.size();
            continue;
        }
        segments_.push_back(segment.subspan(skip));
        bytes_ += segments_.back().size();
        skip = 0;
    }
}

}  // namespace ringlog::net::dpdk
