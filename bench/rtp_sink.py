"""A process that takes the pupils' incoming RTP off their sockets, for bench/class_load.py.

30 pupils receive some 54,000 RTP packets a second. Through Python's event loop each costs
about 20 µs before aiortc even sees it, and a thread reading them in the clients' process
holds the GIL the event loop needs: either way the clients, not Janus, become the bottleneck,
their sockets overflow and the kernel drops what Janus forwarded. So the pupils' subscription
sockets are handed (SCM_RIGHTS) to this small process, which reads them in a tight loop,
counts RTP and RTCP packets and bytes by payload type, and sends everything else (STUN, DTLS)
back to the clients' event loop, where aioice and aiortc handle it as usual: ICE consent and
DTLS keep working, Janus sees live PeerConnections. RTP is never decrypted, parsed or decoded.

`RtpSink` is the clients' side; `python -m bench.rtp_sink` (started by it) is the sink.
Messages on the SOCK_SEQPACKET pair: to the sink `add <index>` (with the socket's fd),
`report`, `stop`; from it `P` + index (2 bytes) + port (2) + IPv4 (4) + datagram, and `R` + JSON
counts `{index: {"<payload type>:<ssrc>" (RTCP: "-1:0"): [packets, bytes]}}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

FD_ENV = "SAFECLASS_RTP_SINK_FD"
ROOT = Path(__file__).resolve().parents[1]

Counts = dict[int, dict[tuple[int, int], list[int]]]  # {socket: {(payload type, SSRC): [n, bytes]}}


class RtpSink:
    """The clients' side: hands sockets over, relays what comes back, asks for the counts."""

    def __init__(self) -> None:
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rtp_sink"],
            cwd=ROOT,
            env={**os.environ, FD_ENV: str(child.fileno())},
            pass_fds=[child.fileno()],
        )
        child.close()
        self.sock.setblocking(False)
        self.handlers: list[Callable[[bytes, Any], None]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._report: asyncio.Future[Counts] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def add(self, protocol: Any) -> int:
        """Take over an aioice socket (its asyncio transport stops reading); its index."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self.loop.add_reader(self.sock.fileno(), self._on_message)
        transport = protocol.transport
        transport.pause_reading()
        index = len(self.handlers)
        self.handlers.append(protocol.datagram_received)
        fd = transport.get_extra_info("socket").fileno()
        socket.send_fds(self.sock, [b"add %d" % index], [fd])
        return index

    def _on_message(self) -> None:
        while True:
            try:
                message = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not message:
                return
            if message[:1] == b"P":
                index = int.from_bytes(message[1:3], "big")
                port = int.from_bytes(message[3:5], "big")
                addr = (socket.inet_ntoa(message[5:9]), port)
                self.handlers[index](message[9:], addr)
            elif message[:1] == b"R" and self._report is not None and not self._report.done():
                raw = json.loads(message[1:])
                counts = {int(i): {_key(k): c for k, c in keys.items()} for i, keys in raw.items()}
                self._report.set_result(counts)

    async def counts(self, timeout: float = 5.0) -> Counts:
        """{socket index: {(payload type, SSRC) ((-1, 0): RTCP): [packets, bytes]}} so far."""
        self._report = asyncio.get_running_loop().create_future()
        self.sock.send(b"report")
        return await asyncio.wait_for(self._report, timeout)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.remove_reader(self.sock.fileno())
        with contextlib.suppress(OSError):
            self.sock.send(b"stop")
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.sock.close()


def _key(text: str) -> tuple[int, int]:
    pt, _, ssrc = text.partition(":")
    return int(pt), int(ssrc)


def main() -> None:
    control = socket.socket(fileno=int(os.environ[FD_ENV]))
    poller = select.epoll()
    poller.register(control.fileno(), select.EPOLLIN)
    sockets: dict[int, tuple[int, socket.socket]] = {}
    counts: defaultdict[int, defaultdict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    buffer = bytearray(2048)
    while True:
        for fd, _ in poller.poll():
            if fd == control.fileno():
                message, fds, _, _ = socket.recv_fds(control, 1024, 4)
                if not message or message == b"stop":
                    return
                if message.startswith(b"add ") and fds:
                    sock = socket.socket(fileno=fds[0])
                    sock.setblocking(False)
                    sockets[sock.fileno()] = (int(message[4:]), sock)
                    poller.register(sock.fileno(), select.EPOLLIN)
                elif message == b"report":
                    control.send(b"R" + json.dumps(counts).encode())
                continue
            index, sock = sockets[fd]
            while True:
                try:
                    size, addr = sock.recvfrom_into(buffer)
                except OSError:  # BlockingIOError: nothing more for now
                    break
                if size > 11 and 127 < buffer[0] < 192:  # RTP or RTCP (RFC 7983)
                    if 191 < buffer[1] < 224:
                        key = "-1:0"
                    else:
                        key = f"{buffer[1] & 0x7F}:{int.from_bytes(buffer[8:12], 'big')}"
                    count = counts[index][key]
                    count[0] += 1
                    count[1] += size
                else:  # STUN, DTLS: for aioice/aiortc in the clients' process
                    header = b"P" + index.to_bytes(2, "big") + addr[1].to_bytes(2, "big")
                    control.send(header + socket.inet_aton(addr[0]) + bytes(buffer[:size]))


if __name__ == "__main__":
    main()
