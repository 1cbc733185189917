"""A loopback TCP proxy that understands Kafka framing, for tests that need a client to lose
responses: it forwards every request to the broker, and for Produce responses asks a policy
whether to pass them on, cut the connection instead (the broker has handled the request, the
client never hears of it), or hold them until the test releases them (then cut).

The broker listens on another loopback address with the same port (ringlogd --listen-host
127.0.0.2 --port P --advertised-host 127.0.0.1) and so advertises the proxy's address in
Metadata: clients keep coming back through the proxy without any Metadata rewriting.
"""

import socket
import struct
import threading

PRODUCE = 0


def _recv_exactly(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _recv_frame(sock):
    size = _recv_exactly(sock, 4)
    if size is None:
        return None
    body = _recv_exactly(sock, struct.unpack(">i", size)[0])
    return None if body is None else size + body


class KafkaProxy:
    """listen and upstream are (host, port). Modes for Produce responses: "forward", "cut" (cut
    the connection instead of every `cut_every`-th one, at most `cuts_max` times) and "hold" (the
    next one is held: held is set, and once release() is called the connection is cut)."""

    def __init__(self, listen, upstream):
        self.upstream = upstream
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(listen)
        self.listener.listen(64)
        self.lock = threading.Lock()
        self.mode = "forward"
        self.cut_every = 3
        self.cuts_max = 0
        self.produce_responses = 0
        self.cuts = 0
        self.connections = 0
        self.held = threading.Event()
        self._release = threading.Event()
        self._closed = False
        self._sockets = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    # Policy.

    def cut_responses(self, every, count):
        with self.lock:
            self.mode, self.cut_every, self.cuts_max = "cut", every, count

    def hold_next(self):
        with self.lock:
            self.held.clear()
            self._release.clear()
            self.mode = "hold"

    def release(self):
        self._release.set()

    def forward(self):
        with self.lock:
            self.mode = "forward"

    def _decide(self):
        with self.lock:
            self.produce_responses += 1
            if self.mode == "cut" and self.cuts < self.cuts_max and self.produce_responses % self.cut_every == 0:
                self.cuts += 1
                return "cut"
            if self.mode == "hold":
                self.mode = "forward"
                self.cuts += 1
                return "hold"
            return "forward"

    # Plumbing.

    def _accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock):
        with self.lock:
            if self._closed:
                sock.close()
                return False
            self._sockets.add(sock)
            return True

    def _cut(self, *socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
            with self.lock:
                self._sockets.discard(s)

    def _serve(self, client):
        if not self._track(client):
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
        except OSError:
            self._cut(client)  # the broker is down: the client tries again
            return
        if not self._track(server):
            self._cut(client)
            return
        with self.lock:
            self.connections += 1
        api_keys = {}  # correlation id -> api key of the requests in flight
        keys_lock = threading.Lock()

        def requests():
            try:
                while True:
                    frame = _recv_frame(client)
                    if frame is None:
                        break
                    api_key, correlation_id = struct.unpack(">h2xi", frame[4:12])
                    with keys_lock:
                        api_keys[correlation_id] = api_key
                    server.sendall(frame)
            except OSError:
                pass
            self._cut(client, server)

        threading.Thread(target=requests, daemon=True).start()
        try:
            while True:
                frame = _recv_frame(server)
                if frame is None:
                    break
                (correlation_id,) = struct.unpack(">i", frame[4:8])
                with keys_lock:
                    api_key = api_keys.pop(correlation_id, None)
                if api_key == PRODUCE:
                    decision = self._decide()
                    if decision == "cut":
                        break
                    if decision == "hold":
                        self.held.set()
                        self._release.wait(120)
                        break
                client.sendall(frame)
        except OSError:
            pass
        self._cut(client, server)

    def close(self):
        with self.lock:
            self._closed = True
            sockets = list(self._sockets)
        self._release.set()
        try:
            self.listener.close()
        except OSError:
            pass
        for s in sockets:
            self._cut(s)
