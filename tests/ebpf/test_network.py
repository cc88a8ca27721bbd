"""The network family: each process's socket traffic, by direction and kind of socket, counted
in the kernel, checked against what the programs themselves counted they sent and received."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from .helpers import both_ways, every_process, run_collected

# The root serves TCP on loopback; a child connects, sends N bytes and reads 1,000 back; then
# the root sends 12,345 bytes through a unix socket pair and ten 1,000-byte UDP datagrams to
# itself, peeking at one first. Each side writes what it counted, with its pid, to argv[1].
TALKER = r"""
import json, os, socket, sys
N = 3_000_000
out = sys.argv[1]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
if os.fork() == 0:
    c = socket.create_connection(("127.0.0.1", port))
    port_here = c.getsockname()[1]
    sent = calls = 0
    while sent < N:
        sent += c.send(b"x" * min(65536, N - sent)); calls += 1
    got = rcalls = 0
    while got < 1000:
        got += len(c.recv(1000 - got)); rcalls += 1
    c.close()
    with open(out + ".child", "w") as f:
        json.dump({"pid": os.getpid(), "tcp_tx": sent, "tcp_rx": got, "tx_calls": calls,
                   "rx_calls": rcalls, "port": port_here,
                   "server": port}, f)
    os._exit(0)
conn, _ = srv.accept()
got = rcalls = 0
while True:
    d = conn.recv(1 << 16); rcalls += 1
    if not d:
        break
    got += len(d)
    if got == N:
        conn.sendall(b"y" * 1000)
conn.close()
os.wait()
a, b = socket.socketpair()
a.sendall(b"u" * 12345); a.close()
u = 0
while (d := b.recv(4096)):
    u += len(d); rcalls += 1
rcalls += 1
s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s1.bind(("127.0.0.1", 0))
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10):
    s2.sendto(b"d" * 1000, s1.getsockname())
s1.recv(2000, socket.MSG_PEEK); rcalls += 1
udp = 0
for _ in range(10):
    udp += len(s1.recv(2000)); rcalls += 1
with open(out + ".root", "w") as f:
    json.dump({"pid": os.getpid(), "tcp_rx": got, "unix_rx": u, "unix_tx": 12345,
               "udp_rx": udp, "udp_tx": 10000, "rx_calls": rcalls}, f)
"""


@both_ways("network")
def test_socket_bytes_per_process_and_kind_equal_what_the_programs_counted(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    out = tmp_path / "counted"
    last, snaps = run_collected([sys.executable, "-c", TALKER, str(out)], probes=probes)
    root = json.loads(Path(f"{out}.root").read_text())
    child = json.loads(Path(f"{out}.child").read_text())
    procs = {p.pid: p for p in every_process(snaps)}
    r, c = procs[root["pid"]].net, procs[child["pid"]].net
    assert r is not None and c is not None
    assert (c.tcp_tx_bytes, c.tcp_rx_bytes, c.tx_calls, c.rx_calls) == (
        child["tcp_tx"],
        child["tcp_rx"],
        child["tx_calls"],
        child["rx_calls"],
    )
    assert (r.tcp_rx_bytes, r.tcp_tx_bytes) == (root["tcp_rx"], child["tcp_rx"])
    assert (r.unix_rx_bytes, r.unix_tx_bytes) == (root["unix_rx"], root["unix_tx"])
    assert (r.udp_rx_bytes, r.udp_tx_bytes) == (root["udp_rx"], root["udp_tx"])  # a peek: 0
    assert r.rx_calls == root["rx_calls"] and r.other_rx_bytes == r.other_tx_bytes == 0
    # The tree's totals keep every process.
    assert last.totals.net_tx_bytes == r.tx_bytes + c.tx_bytes == 3_000_000 + 1000 + 22_345
    assert last.diagnostics["net_full"] == 0
    # Its TCP sockets, each with its endpoints, direction and bytes each way; all closed.
    conns = {}
    for s in snaps:
        conns.update(((x.pid, x.direction), x) for x in s.connections if x.protocol == "tcp")
    here, there = f"127.0.0.1:{child['port']}", f"127.0.0.1:{child['server']}"
    got = {
        k: (x.local, x.remote, x.rx_bytes, x.tx_bytes, x.state, x.end_ts is not None)
        for k, x in conns.items()
    }
    assert got == {
        (child["pid"], "connect"): (here, there, 1000, 3_000_000, "CLOSE", True),
        (root["pid"], "accept"): (there, here, 3_000_000, 1000, "CLOSE", True),
        (root["pid"], "listen"): (there, None, 0, 0, "CLOSE", True),
    }
    assert last.diagnostics["connections_open"] == 0


# Three connections, two over IPv4 and one over IPv6 (loopback only), each with its own byte
# counts both ways; every socket's endpoints and bytes written by the side that owns it.
SEVERAL = r"""
import json, os, socket, sys
out = sys.argv[1]
v4 = socket.create_server(("127.0.0.1", 0))
v6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
plan = [(v4, 100_000, 7_000), (v4, 250_000, 3), (v6, 60_000, 123_456)]
def pump(sock, send, want):
    sock.sendall(b"s" * send)
    sock.shutdown(socket.SHUT_WR)
    got = 0
    while (d := sock.recv(1 << 16)):
        got += len(d)
    assert got == want, (got, want)
def ends(sock):
    here, there = sock.getsockname(), sock.getpeername()
    fmt = lambda a: f"[{a[0]}]:{a[1]}" if ":" in a[0] else f"{a[0]}:{a[1]}"
    return fmt(here), fmt(there)
if os.fork() == 0:
    rows = []
    for srv, up, down in plan:
        c = socket.create_connection(srv.getsockname()[:2])
        rows.append((os.getpid(), "connect", *ends(c), down, up))
        pump(c, up, down)
        c.close()
    json.dump(rows, open(out + ".child", "w"))
    os._exit(0)
rows = []
for srv, up, down in plan:
    conn, _ = srv.accept()
    rows.append((os.getpid(), "accept", *ends(conn), up, down))
    pump(conn, down, up)
    conn.close()
os.wait()
json.dump(rows, open(out + ".root", "w"))
"""


def test_several_connections_over_ipv4_and_ipv6_each_with_its_endpoints(tmp_path: Path) -> None:
    out = tmp_path / "counted"
    last, snaps = run_collected(
        [sys.executable, "-c", SEVERAL, str(out)], probes=frozenset({"network"})
    )
    said = json.loads(Path(f"{out}.child").read_text()) + json.loads(
        Path(f"{out}.root").read_text()
    )
    seen = {}
    for s in snaps:
        seen.update(((c.pid, c.local, c.remote), c) for c in s.connections)
    got = sorted(
        [c.pid, c.direction, c.local, c.remote, c.rx_bytes, c.tx_bytes]
        for c in seen.values()
        if c.direction != "listen"
    )
    assert got == sorted(list(r) for r in said)
    families = {c.local: c.family for c in seen.values()}
    assert sorted(set(families.values())) == ["ipv4", "ipv6"]
    listening = sorted(c.local for c in seen.values() if c.direction == "listen")
    assert len(listening) == 2 and any(x.startswith("[::1]:") for x in listening)


# `python3 -m http.server` on 127.0.0.1 serving a file of known size, and a client of our own
# fetching it (both in the tree). argv[1]: the directory served; argv[2]: where the client says
# what it received.
FETCH = r"""
import os, socket, subprocess, sys, time, urllib.request
port = socket.create_server(("127.0.0.1", 0)).getsockname()[1]  # a free port (closed again)
server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                           "127.0.0.1", "--directory", sys.argv[1]],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        break
    except OSError:
        time.sleep(0.02)
if os.fork() == 0:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/blob") as r:
        body = r.read()
    open(sys.argv[2], "w").write(f"{os.getpid()} {len(body)}")
    os._exit(0)
os.wait()
time.sleep(0.3)
server.terminate()
server.wait()
print(server.pid, file=open(sys.argv[2] + ".server", "w"))
"""


def test_a_file_fetched_from_http_server(tmp_path: Path) -> None:
    size = 1_234_567
    (tmp_path / "blob").write_bytes(os.urandom(size))
    said = tmp_path / "said"
    _, snaps = run_collected(
        [sys.executable, "-c", FETCH, str(tmp_path), str(said)], probes=frozenset({"network"})
    )
    client, got = map(int, said.read_text().split())
    server = int(Path(f"{said}.server").read_text())
    procs = {p.pid: p for p in every_process(snaps)}
    c, s = procs[client].net, procs[server].net
    assert got == size and c is not None and s is not None
    assert c.tcp_rx_bytes >= size  # the body, and the response's headers
    assert s.tcp_tx_bytes == c.tcp_rx_bytes


# UDP endpoint pairs, each side counting per (its pid, its socket's address, the remote) what it
# sent and received: a child's unbound socket sends 5 datagrams with sendto and reads 5 replies
# with recvfrom; the root's server takes them with one recvmmsg and answers with one sendmmsg;
# a second socket of the root sends 3 with sendmsg (taken with recvmsg), and reads an answer
# with recv (no address asked: "not seen"); an IPv6 pair, connected on one side, 4 each way.
UDP = r"""
import ctypes, json, os, socket, struct, sys
out = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
pairs = {}
def ep(a):
    return f"[{a[0]}]:{a[1]}" if ":" in a[0] else f"{a[0]}:{a[1]}"
def count(sock, remote, rx=0, tx=0):
    k = f"{os.getpid()} {ep(sock.getsockname())} {ep(remote) if remote else None}"
    got = pairs.setdefault(k, [0, 0])
    got[0] += rx; got[1] += tx
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(("127.0.0.1", 0))
r, w = os.pipe()
if os.fork() == 0:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(5):
        count(c, srv.getsockname(), tx=c.sendto(b"a" * (100 + i), srv.getsockname()))
    for i in range(5):
        d, a = c.recvfrom(4096); count(c, a, rx=len(d))
    os.write(w, json.dumps(pairs).encode()); os._exit(0)
n = 5
bufs = [ctypes.create_string_buffer(4096) for _ in range(n)]
names = [ctypes.create_string_buffer(28) for _ in range(n)]
iovs = [iovec(ctypes.cast(b, ctypes.c_void_p), 4096) for b in bufs]
vec = (mmsghdr * n)()
for i in range(n):
    vec[i].hdr.name = ctypes.cast(names[i], ctypes.c_void_p); vec[i].hdr.namelen = 28
    vec[i].hdr.iov = ctypes.pointer(iovs[i]); vec[i].hdr.iovlen = 1
assert libc.recvmmsg(srv.fileno(), vec, n, 0, None) == n
froms = []
for i in range(n):
    _fam, port = struct.unpack_from("=HH", names[i].raw)
    a = (socket.inet_ntoa(names[i].raw[4:8]), socket.ntohs(port))
    froms.append(a); count(srv, a, rx=vec[i].len)
out_bufs = [ctypes.create_string_buffer(b"b" * (200 + i)) for i in range(n)]
out_names = [ctypes.create_string_buffer(struct.pack("=HH4s8x", socket.AF_INET,
             socket.htons(a[1]), socket.inet_aton("127.0.0.1")), 16) for a in froms]
out_iovs = [iovec(ctypes.cast(b, ctypes.c_void_p), 200 + i) for i, b in enumerate(out_bufs)]
ovec = (mmsghdr * n)()
for i in range(n):
    ovec[i].hdr.name = ctypes.cast(out_names[i], ctypes.c_void_p); ovec[i].hdr.namelen = 16
    ovec[i].hdr.iov = ctypes.pointer(out_iovs[i]); ovec[i].hdr.iovlen = 1
assert libc.sendmmsg(srv.fileno(), ovec, n, 0) == n
for i in range(n):
    count(srv, froms[i], tx=ovec[i].len)
child = json.loads(os.read(r, 65536)); os.wait()
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    count(s2, srv.getsockname(), tx=s2.sendmsg([b"m" * (30 + i)], [], 0, srv.getsockname()))
    d, _anc, _fl, a = srv.recvmsg(4096); count(srv, a, rx=len(d))
back = ("127.0.0.1", s2.getsockname()[1])
count(srv, back, tx=srv.sendto(b"n" * 77, back))
count(s2, None, rx=len(s2.recv(4096)))
a6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); a6.bind(("::1", 0))
b6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); b6.connect(a6.getsockname())
for i in range(4):
    count(b6, a6.getsockname(), tx=b6.send(b"6" * 60))
    d, a = a6.recvfrom(4096); count(a6, a, rx=len(d))
    count(a6, a, tx=a6.sendto(d + b"!", a))
    count(b6, a6.getsockname(), rx=len(b6.recv(4096)))
pairs.update(child)
json.dump({k: v for k, v in pairs.items()}, open(out, "w"))
"""


@both_ways("network")
def test_udp_endpoint_pairs_equal_what_each_side_counted(
    tmp_path: Path, probes: frozenset[str]
) -> None:
    out = tmp_path / "pairs"
    last, snaps = run_collected([sys.executable, "-c", UDP, str(out)], probes=probes)
    said = {k: tuple(v) for k, v in json.loads(out.read_text()).items()}
    seen = {}
    for s in snaps:
        seen.update(((c.pid, c.local, c.remote), c) for c in s.connections if c.protocol == "udp")
    got = {f"{p} {lo} {re}": (c.rx_bytes, c.tx_bytes) for (p, lo, re), c in seen.items()}
    assert got == said
    assert len(said) == 7  # child-server, server-child, s2-server, server-s2, s2-?, 2 over v6
    states = {c.local: c.state for c in seen.values() if c.family == "ipv6"}
    assert sorted(states.values()) == ["connected", "unconnected"]
    assert last.diagnostics["net_full"] == 0


# A server of the tree accepts one connection from outside the tree (the test itself) that
# carries no byte either way, and closes it.
SILENT = r"""
import os, socket, sys
srv = socket.create_server(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conn, peer = srv.accept()
conn.close()
open(sys.argv[1] + ".peer", "w").write("%s:%d %d" % (*peer, os.getpid()))
"""


def test_an_accepted_connection_that_carries_nothing_is_listed(tmp_path: Path) -> None:
    port_file = tmp_path / "port"

    def client() -> None:
        for _ in range(1000):
            if port_file.exists():
                socket.create_connection(("127.0.0.1", int(port_file.read_text()))).close()
                return
            time.sleep(0.01)

    helper = threading.Thread(target=client)
    helper.start()
    try:
        _, snaps = run_collected(
            [sys.executable, "-c", SILENT, str(port_file)], probes=frozenset({"network"})
        )
    finally:
        helper.join()
    peer, server = Path(f"{port_file}.peer").read_text().split()
    seen = {}
    for s in snaps:
        seen.update(((c.direction, c.local, c.remote), c) for c in s.connections)
    here = f"127.0.0.1:{port_file.read_text()}"
    assert set(seen) == {("listen", here, None), ("accept", here, peer)}  # (the client: not ours)
    accepted = seen["accept", here, peer]
    assert (accepted.pid, accepted.rx_bytes, accepted.tx_bytes) == (int(server), 0, 0)
    assert accepted.end_ts is not None
