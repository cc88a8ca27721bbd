"""Built-in demo workload for `denet-tui run` with no command: a small tree doing real work.

Roles (each its own process, so the tree has something to show): CPU bursts, file writes with
fsync, a datagram ping-pong pair, memory churn, and a spawner of short-lived children. Every role
is throttled so the demo stays light on a small machine. Runs until interrupted or --seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROLES = ("cpu", "writer", "pingpong", "memory", "spawner")


def _cpu(stop: float) -> None:
    while time.monotonic() < stop:
        burst_end = time.monotonic() + 0.4
        x = 0
        while time.monotonic() < burst_end:
            x += 1
        time.sleep(0.6)


def _writer(stop: float) -> None:
    chunk = os.urandom(1 << 20)
    with tempfile.TemporaryFile(prefix="denet-demo-") as f:
        while time.monotonic() < stop:
            for _ in range(4):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
            if f.tell() > 64 << 20:
                f.seek(0)
                f.truncate()
            time.sleep(0.25)


def _pingpong(stop: float) -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pid = os.fork()
    if pid == 0:
        a.close()
        try:
            while msg := b.recv(64):
                b.send(msg)
        except OSError:
            pass
        os._exit(0)
    b.close()
    while time.monotonic() < stop:
        for _ in range(200):
            a.send(b"ping")
            a.recv(64)
        time.sleep(0.1)
    a.send(b"")
    os.waitpid(pid, 0)


def _memory(stop: float) -> None:
    while time.monotonic() < stop:
        block = bytearray(64 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1.5)
        del block
        time.sleep(1.0)


def _spawner(stop: float) -> None:
    while time.monotonic() < stop:
        subprocess.run(["/bin/true"], check=False)
        subprocess.run(["/bin/ls", "/proc/self/"], check=False, stdout=subprocess.DEVNULL)
        time.sleep(0.3)


def _run_role(role: str, seconds: float) -> None:
    {"cpu": _cpu, "writer": _writer, "pingpong": _pingpong, "memory": _memory, "spawner": _spawner}[
        role
    ](time.monotonic() + seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m denet_tui.demo", description=__doc__)
    p.add_argument(
        "--seconds", type=float, default=float("inf"), help="run time (default: forever)"
    )
    p.add_argument("--role", choices=ROLES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.role:
            _run_role(args.role, args.seconds)
            return 0
        print(f"denet-tui demo: {len(ROLES)} workers ({', '.join(ROLES)})", flush=True)
        seconds = [] if args.seconds == float("inf") else ["--seconds", str(args.seconds)]
        workers = [
            subprocess.Popen([sys.executable, "-m", "denet_tui.demo", "--role", r, *seconds])
            for r in ROLES
        ]
        for w in workers:
            w.wait()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
