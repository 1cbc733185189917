#include "net/dpdk/client_endpoint.h"

#include <algorithm>
#include <cstring>

#include "io/base/assert.h"

namespace ringlog::net::dpdk {

ClientSession::ClientSession(ClientEndpoint& endpoint, Endpoint server, const SessionGrant& grant)
    : endpoint_(endpoint),
      server_(server),
      grant_(grant),
      payload_bytes_max_(grant.datagram_bytes_max
                         - static_cast<uint32_t>(PacketHeader::wire_bytes)),
      calls_(grant.window),
      credits_(grant.credits) {
    RL_ASSERT(grant.window > 0 && grant.credits > 0);
    RL_ASSERT(grant.datagram_bytes_max > PacketHeader::wire_bytes);
}

io::Task<absl::StatusOr<std::vector<std::byte>>> ClientSession::call(Bytes request) {
    const uint32_t fragments = fragment_count_for(request.size(), payload_bytes_max_);
    if (fragments > UINT16_MAX) {
        co_return absl::InvalidArgumentError("request too large for the datagram transport");
    }
    // The slot of the next sequence number is free once the call grant_.window before it has
    // completed (calls may complete out of order).
    while (calls_[next_sequence_ % calls_.size()].active) {
        co_await slot_free_.wait();
    }
    const uint64_t sequence = next_sequence_++;
    Call& call = calls_[sequence % calls_.size()];
    call.sequence = sequence;
    call.active = true;
    call.finished = false;
    call.request = request;
    call.request_fragments = static_cast<uint16_t>(fragments);
    call.next_fragment = 0;
    call.acked.assign(fragments, false);
    call.response_started = false;
    call.response_fragments = 0;
    call.response_held = 0;
    call.next_pull = 1;
    call.response.clear();
    call.outstanding = 0;
    call.timeout = endpoint_.options_.retransmit_timeout;
    call.deadline = endpoint_.reactor_.now() + call.timeout;
    call.retransmits = 0;
    call.failure = absl::OkStatus();
    ++in_flight_;
    ++endpoint_.stats_.calls;
    while (!call.finished) {
        co_await call.done.wait();
    }
    absl::StatusOr<std::vector<std::byte>> result;
    if (call.failure.ok()) {
        result = std::move(call.response);
        call.response = {};
    } else {
        result = call.failure;
    }
    call.active = false;
    call.request = {};
    --in_flight_;
    while (oldest_active_ < next_sequence_ && !calls_[oldest_active_ % calls_.size()].active) {
        ++oldest_active_;
    }
    slot_free_.notify_all();
    co_return result;
}

void ClientSession::give_back(uint32_t packets) {
    credits_ = std::min(credits_ + packets, grant_.credits);
}

void ClientSession::pump(TxBatch& tx) {
    for (uint64_t sequence = oldest_active_; sequence < next_sequence_ && credits_ > 0;
         ++sequence) {
        Call& call = calls_[sequence % calls_.size()];
        if (!call.active || call.finished || call.sequence != sequence) {
            continue;
        }
        while (credits_ > 0 && !call.response_started
               && call.next_fragment < call.request_fragments) {
            const uint16_t index = call.next_fragment++;
            if (call.acked[index]) {
                continue;
            }
            const size_t offset = size_t{index} * payload_bytes_max_;
            const size_t length =
                std::min<size_t>(payload_bytes_max_, call.request.size() - offset);
            PacketHeader header;
            header.type = PacketType::request;
            header.session_id = grant_.session_id;
            header.sequence = sequence;
            header.message_bytes = static_cast<uint32_t>(call.request.size());
            header.fragment_index = index;
            header.fragment_count = call.request_fragments;
            header.fragment_offset = static_cast<uint32_t>(offset);
            const Bytes whole[] = {call.request};
            tx.add(server_, header, whole, offset, length);
            --credits_;
            ++call.outstanding;
            ++endpoint_.stats_.packets_sent;
        }
        while (credits_ > 0 && call.response_started && call.next_pull < call.response_fragments) {
            const uint16_t index = call.next_pull++;
            if (call.have[index]) {
                continue;
            }
            PacketHeader header;
            header.type = PacketType::pull;
            header.session_id = grant_.session_id;
            header.sequence = sequence;
            header.fragment_index = index;
            header.fragment_count = call.response_fragments;
            tx.add(server_, header);
            --credits_;
            ++call.outstanding;
            ++endpoint_.stats_.packets_sent;
        }
    }
}

void ClientSession::on_packet(const PacketHeader& header, Bytes payload,
                              std::chrono::steady_clock::time_point now) {
    Call& call = calls_[header.sequence % calls_.size()];
    if (!call.active || call.finished || call.sequence != header.sequence) {
        ++endpoint_.stats_.stray_packets;
        return;
    }
    if (call.outstanding > 0) {
        --call.outstanding;
        give_back(1);
    }
    // Progress: the timer starts again from its first value.
    call.timeout = endpoint_.options_.retransmit_timeout;
    call.deadline = now + call.timeout;
    call.retransmits = 0;
    if (header.type == PacketType::ack) {
        if (header.fragment_index < call.request_fragments) {
            call.acked[header.fragment_index] = true;
        }
        return;
    }
    RL_ASSERT(header.type == PacketType::response);
    if (!call.response_started) {
        call.response_started = true;
        call.response_fragments = header.fragment_count;
        call.response.resize(header.message_bytes);
        call.have.assign(header.fragment_count, false);
        call.next_pull = 1;
    } else if (header.fragment_count != call.response_fragments
               || header.message_bytes != call.response.size()) {
        return;  // contradicts the first fragment: not a packet of ours
    }
    if (call.have[header.fragment_index]) {
        return;
    }
    call.have[header.fragment_index] = true;
    ++call.response_held;
    std::memcpy(call.response.data() + header.fragment_offset, payload.data(), payload.size());
    if (call.response_held == call.response_fragments) {
        complete(call, absl::OkStatus());
    }
}

void ClientSession::check_timeouts(std::chrono::steady_clock::time_point now) {
    for (uint64_t sequence = oldest_active_; sequence < next_sequence_; ++sequence) {
        Call& call = calls_[sequence % calls_.size()];
        if (!call.active || call.finished || now < call.deadline) {
            continue;
        }
        if (call.retransmits == endpoint_.options_.retransmits_max) {
            complete(call, absl::UnavailableError("datagram request: no answer from the broker"));
            continue;
        }
        // Whatever is unanswered is taken as lost: its credits come back and it is sent again
        // (only what was not acknowledged or received). A late answer then finds no
        // outstanding packet and returns no credit, so credits never exceed the grant.
        ++call.retransmits;
        ++endpoint_.stats_.retransmits;
        give_back(call.outstanding);
        call.outstanding = 0;
        call.timeout = std::min(call.timeout * 2, endpoint_.options_.retransmit_timeout_max);
        call.deadline = now + call.timeout;
        if (call.response_started) {
            call.next_pull = 1;
        } else {
            call.next_fragment = 0;
        }
    }
}

void ClientSession::complete(Call& call, absl::Status failure) {
    give_back(call.outstanding);
    call.outstanding = 0;
    call.finished = true;
    call.failure = std::move(failure);
    if (!call.failure.ok()) {
        ++endpoint_.stats_.calls_failed;
    }
    call.done.notify_all();
}

ClientEndpoint::ClientEndpoint(io::Reactor& reactor, PacketIo& io, ClientOptions options)
    : reactor_(reactor), io_(io), options_(options), received_(options.receive_burst), tx_(io) {
    reactor_.add_poller(*this);
}

ClientEndpoint::~ClientEndpoint() {
    reactor_.remove_poller(*this);
    for (const auto& session : sessions_) {
        RL_ASSERT(session->in_flight() == 0, "ClientEndpoint destroyed with calls in flight");
    }
}

ClientSession& ClientEndpoint::add_session(Endpoint server, const SessionGrant& grant) {
    RL_ASSERT(grant.datagram_bytes_max <= io_.datagram_bytes_max());
    sessions_.push_back(std::unique_ptr<ClientSession>(new ClientSession(*this, server, grant)));
    return *sessions_.back();
}

bool ClientEndpoint::poll() {
    const size_t count = io_.receive(received_);
    bool busy = count > 0;
    bool any_in_flight = false;
    for (const auto& session : sessions_) {
        any_in_flight = any_in_flight || session->in_flight() > 0;
    }
    if (count == 0 && !any_in_flight) {
        return false;
    }
    const auto now = reactor_.now();
    for (size_t index = 0; index < count; ++index) {
        const ReceivedPacket& packet = received_[index];
        const std::optional<PacketHeader> header = PacketHeader::decode(packet.payload);
        if (header.has_value()
            && (header->type == PacketType::ack || header->type == PacketType::response)) {
            for (const auto& session : sessions_) {
                if (session->grant_.session_id == header->session_id
                    && session->server_ == packet.source) {
                    session->on_packet(*header, packet.payload.subspan(PacketHeader::wire_bytes),
                                       now);
                    break;
                }
            }
        } else {
            ++stats_.stray_packets;
        }
        io_.release(packet);
    }
    const uint64_t sent_before = stats_.packets_sent;
    for (const auto& session : sessions_) {
        session->check_timeouts(now);
        session->pump(tx_);
    }
    tx_.flush();
    // While a call waits for its answer, keep the loop spinning rather than backing off (if
    // asked to): the answer is due within a round trip, and a back-off wait that nothing
    // interrupts would add up to poll_wait_max.
    return busy || (any_in_flight && options_.spin_while_waiting)
           || stats_.packets_sent != sent_before;
}

}  // namespace ringlog::net::dpdk
