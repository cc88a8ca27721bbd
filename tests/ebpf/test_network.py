"""The network family: each process's socket traffic, by direction and kind of socket, counted
in the kernel, checked against what the programs themselves counted they sent and received."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .helpers import every_process, run_collected

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


def test_socket_bytes_per_process_and_kind_equal_what_the_programs_counted(
    tmp_path: Path,
) -> None:
    out = tmp_path / "counted"
    last, snaps = run_collected([sys.executable, "-c", TALKER, str(out)])
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
        conns.update(((x.pid, x.direction), x) for x in s.connections)
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
