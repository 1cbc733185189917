#include "net/dpdk/server_endpoint.h"

#include <algorithm>
#include <cstring>

#include <absl/strings/str_cat.h>

#include "io/base/assert.h"

namespace ringlog::net::dpdk {

ServerEndpoint::ServerEndpoint(io::Reactor& reactor, PacketIo& io, tcp::FrameHandler& handler,
                               ServerOptions options)
    : reactor_(reactor),
      io_(io),
      handler_(handler),
      options_(options),
      next_session_id_(options.session_id_base),
      received_(options.receive_burst),
      tx_(io) {
    RL_ASSERT(options_.window > 0);
    RL_ASSERT(io_.datagram_bytes_max() > PacketHeader::wire_bytes);
}

ServerEndpoint::~ServerEndpoint() {
    RL_ASSERT(!polling_, "ServerEndpoint destroyed while polling: stop() it first");
    RL_ASSERT(tasks_.active() == 0);
}

void ServerEndpoint::start() {
    RL_ASSERT(!polling_);
    polling_ = true;
    reactor_.add_poller(*this);
}

io::Task<void> ServerEndpoint::stop() {
    if (polling_) {
        reactor_.remove_poller(*this);
        polling_ = false;
    }
    co_await tasks_.wait_idle();
    tx_.flush();
}

void ServerEndpoint::expire_idle_sessions() {
    const auto now = reactor_.now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        const Session& session = *it->second;
        if (session.executing == 0 && now - session.last_heard >= options_.session_idle_timeout) {
            ++stats_.sessions_expired;
            sessions_.erase(it++);
        } else {
            ++it;
        }
    }
}

absl::StatusOr<SessionGrant> ServerEndpoint::open_session(uint32_t client_datagram_bytes_max) {
    if (sessions_.size() >= options_.sessions_max) {
        expire_idle_sessions();
    }
    if (sessions_.size() >= options_.sessions_max) {
        return absl::ResourceExhaustedError(
            absl::StrCat("datagram sessions: all ", options_.sessions_max, " in use"));
    }
    const uint32_t datagram_bytes = std::min<uint32_t>(
        client_datagram_bytes_max, static_cast<uint32_t>(io_.datagram_bytes_max()));
    if (datagram_bytes <= PacketHeader::wire_bytes + 64) {
        return absl::InvalidArgumentError(
            absl::StrCat("datagrams of ", client_datagram_bytes_max, " bytes are too small"));
    }
    auto session = std::make_unique<Session>();
    session->id = next_session_id_++;
    session->payload_bytes_max = datagram_bytes - static_cast<uint32_t>(PacketHeader::wire_bytes);
    session->slots.resize(options_.window);
    session->last_heard = reactor_.now();
    SessionGrant grant;
    grant.session_id = session->id;
    grant.credits = options_.credits;
    grant.window = options_.window;
    grant.datagram_bytes_max = datagram_bytes;
    sessions_.emplace(session->id, std::move(session));
    return grant;
}

bool ServerEndpoint::poll() {
    const size_t count = io_.receive(received_);
    if (count > 0) {
        now_ = reactor_.now();
    }
    for (size_t index = 0; index < count; ++index) {
        bool keep = false;
        on_packet(received_[index], keep);
        if (!keep) {
            io_.release(received_[index]);
        }
    }
    tx_.flush();
    return count > 0;
}

void ServerEndpoint::on_packet(const ReceivedPacket& packet, bool& keep) {
    const std::optional<PacketHeader> header = PacketHeader::decode(packet.payload);
    if (!header.has_value()) {
        ++stats_.dropped_unknown;
        return;
    }
    const auto found = sessions_.find(header->session_id);
    if (found == sessions_.end()) {
        ++stats_.dropped_unknown;
        return;
    }
    Session& session = *found->second;
    session.last_heard = now_;
    switch (header->type) {
        case PacketType::request:
            on_request(session, *header, packet, keep);
            return;
        case PacketType::pull:
            on_pull(session, *header, packet.source);
            return;
        case PacketType::response:
        case PacketType::ack:
            ++stats_.dropped_unknown;  // server-to-client types: not for us
            return;
    }
}

void ServerEndpoint::on_request(Session& session, const PacketHeader& header,
                                const ReceivedPacket& packet, bool& keep) {
    const Bytes payload = packet.payload.subspan(PacketHeader::wire_bytes);
    if (header.message_bytes > options_.message_bytes_max
        || payload.size() > session.payload_bytes_max) {
        ++stats_.dropped_unknown;
        return;
    }
    Slot& slot = session.slots[header.sequence % session.slots.size()];
    if (header.sequence < slot.sequence) {
        ++stats_.dropped_stale;
        return;
    }
    const bool last = header.fragment_index + 1 == header.fragment_count;
    if (header.sequence > slot.sequence) {
        // A new request in this slot: the client has the response to the one before (it keeps
        // to the window), so the cached one can go. One still executing cannot: a client
        // flooding past its window is ignored until it finishes.
        if (slot.state == SlotState::executing) {
            ++stats_.dropped_busy;
            return;
        }
        slot.sequence = header.sequence;
        slot.state = SlotState::receiving;
        slot.client = packet.source;
        slot.message_bytes = header.message_bytes;
        slot.fragment_count = header.fragment_count;
        slot.fragments_held = 0;
        slot.response.reset();
        if (header.fragment_count == 1) {
            // The common case: parse the request where it was received, holding the buffer (an
            // mbuf, a socket slot) until the handler is done with it.
            slot.state = SlotState::executing;
            ++session.executing;
            keep = true;
            ++stats_.requests_in_place;
            tasks_.spawn(execute(session, slot, header.sequence, payload, packet));
            return;
        }
        slot.have.assign(header.fragment_count, false);
        slot.assembly.resize(header.message_bytes);
    }
    if (header.fragment_count != slot.fragment_count
        || header.message_bytes != slot.message_bytes) {
        ++stats_.dropped_unknown;  // contradicts the fragments seen before
        return;
    }
    slot.client = packet.source;
    switch (slot.state) {
        case SlotState::empty:
            return;  // sequence 0 is never used
        case SlotState::receiving:
            if (!slot.have[header.fragment_index]) {
                slot.have[header.fragment_index] = true;
                ++slot.fragments_held;
                std::memcpy(slot.assembly.data() + header.fragment_offset, payload.data(),
                            payload.size());
            }
            if (!last) {
                send_ack(session, header, packet.source);
            }
            if (slot.fragments_held == slot.fragment_count) {
                slot.state = SlotState::executing;
                ++session.executing;
                tasks_.spawn(
                    execute(session, slot, header.sequence, Bytes(slot.assembly), std::nullopt));
            }
            return;
        case SlotState::executing:
            ++stats_.duplicate_requests;
            if (!last) {
                send_ack(session, header, packet.source);
            }
            return;  // the response goes out when it is ready
        case SlotState::done:
            ++stats_.duplicate_requests;
            if (!last) {
                send_ack(session, header, packet.source);
            } else {
                ++stats_.responses_resent;
                send_response(session, slot, 0, packet.source);
            }
            return;
    }
}

void ServerEndpoint::on_pull(Session& session, const PacketHeader& header, Endpoint source) {
    ++stats_.pulls;
    const Slot& slot = session.slots[header.sequence % session.slots.size()];
    if (slot.sequence != header.sequence || slot.state != SlotState::done
        || header.fragment_index >= slot.response_fragments) {
        ++stats_.dropped_stale;
        return;
    }
    send_response(session, slot, header.fragment_index, source);
}

void ServerEndpoint::send_ack(const Session& session, const PacketHeader& request,
                              Endpoint target) {
    PacketHeader ack = request;
    ack.type = PacketType::ack;
    ack.session_id = session.id;
    ack.fragment_offset = 0;
    ack.message_bytes = 0;
    ++stats_.acks_sent;
    tx_.add(target, ack);
}

void ServerEndpoint::send_response(const Session& session, const Slot& slot, uint16_t index,
                                   Endpoint target) {
    const size_t offset = size_t{index} * session.payload_bytes_max;
    const size_t length =
        std::min<size_t>(session.payload_bytes_max,
                         slot.response_bytes - std::min<size_t>(offset, slot.response_bytes));
    PacketHeader header;
    header.type = PacketType::response;
    header.session_id = session.id;
    header.sequence = slot.sequence;
    header.message_bytes = slot.response_bytes;
    header.fragment_index = index;
    header.fragment_count = slot.response_fragments;
    header.fragment_offset = static_cast<uint32_t>(offset);
    ++stats_.fragments_sent;
    CachedResponse* cached = slot.response.get();
    if (cached == nullptr) {
        tx_.add(target, header);  // an empty answer (acks=0, or one too large to send)
        return;
    }
    tx_.add(target, header, cached->segments(), offset, length, cached);
}

void ServerEndpoint::finish(Session& session, Slot& slot, std::optional<tcp::Response> response) {
    slot.response.reset();
    size_t bytes = 0;
    if (response.has_value()) {
        slot.response = CachedResponseRef(CachedResponse::make(*std::move(response)));
        bytes = slot.response.get()->size_bytes();
    }
    const uint32_t fragments = fragment_count_for(bytes, session.payload_bytes_max);
    if (bytes > options_.message_bytes_max || fragments > UINT16_MAX) {
        // Too big for this transport (a fetch without a sane max_bytes): answer nothing, as
        // for acks=0; the client sees an empty response frame.
        std::fprintf(stderr, "datagram: a %zu-byte response is too large; sent empty\n", bytes);
        slot.response.reset();
        bytes = 0;
    }
    slot.response_bytes = static_cast<uint32_t>(bytes);
    slot.response_fragments =
        static_cast<uint16_t>(fragment_count_for(bytes, session.payload_bytes_max));
    slot.assembly = {};  // a multi-fragment request's copy is done with
    slot.have = {};
    slot.state = SlotState::done;
    --session.executing;
    ++stats_.requests_executed;
    send_response(session, slot, 0, slot.client);
}

io::Task<void> ServerEndpoint::execute(Session& session, Slot& slot, uint64_t sequence, Bytes frame,
                                       std::optional<ReceivedPacket> held) {
    // A deferred response (a produce waiting for the disk) is awaited here: a session's
    // requests run side by side already, each in its window slot.
    std::optional<tcp::Response> response = co_await tcp::resolve(co_await handler_.handle(frame));
    if (held.has_value()) {
        io_.release(*held);
    }
    // The slot cannot have moved on: a new sequence number is refused while this one executes.
    RL_ASSERT(slot.sequence == sequence && slot.state == SlotState::executing);
    finish(session, slot, std::move(response));
}

}  // namespace ringlog::net::dpdk
