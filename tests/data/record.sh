#!/bin/sh
# Records the JSONL fixtures the snapshot tests replay: real runs of a small parallel C build
# (make -j4 of generated sources, an archive, a fsync'd write), watched by each collector; and
# a script that touches files, runs programs, sends signals, acts as root, writes to the disk
# directly and sends through a unix socket, a TCP connection and UDP (every family).
#   tests/data/record.sh procfs   → tests/data/build-procfs.jsonl
#   tests/data/record.sh ebpf     → tests/data/build-ebpf.jsonl   (root, BCC)
#   tests/data/record.sh touch    → tests/data/touch-ebpf.jsonl   (root, BCC)
set -eu
collector=${1:?usage: record.sh procfs|ebpf|touch}
here=$(cd "$(dirname "$0")" && pwd)
denet=$here/../../.venv/bin/denet-tui
work=$(mktemp -d /tmp/denet-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ "$collector" = touch ]; then
    cat > "$work/touch.sh" <<'SH'
cd "$(dirname "$0")"
mkdir d
echo config > "d/[bold]app.conf"
cat "d/[bold]app.conf" d/missing.conf > /dev/null 2>&1
mv "d/[bold]app.conf" d/app.conf.old
rm d/app.conf.old
rmdir d
no-such-program 2> /dev/null
sleep 5 &
kill -USR1 $!
wait
unshare -u true
setpriv --reuid 65534 --regid 65534 --clear-groups nice -n -5 true 2> /dev/null
dd if=/dev/zero of=direct.bin bs=64k count=16 oflag=direct status=none
rm direct.bin
python3 -c '
import socket
a, b = socket.socketpair()
a.sendall(b"x" * 100000)
a.close()
while b.recv(65536):
    pass
srv = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
c.sendall(b"y" * 50000)
c.close()
while conn.recv(65536):
    pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    v.sendto(b"z" * 512, u.getsockname())
    d, a = u.recvfrom(2048)
    u.sendto(d, a)
    v.recvfrom(2048)
'
sleep 1.2
exit 0
SH
    "$denet" run --json --out "$here/touch-ebpf.jsonl" -- sh "$work/touch.sh"
    echo "recorded $here/touch-ebpf.jsonl ($(wc -l < "$here/touch-ebpf.jsonl") lines)"
    exit 0
fi

i=1
while [ $i -le 12 ]; do
    {
        echo "#include <stdio.h>"
        f=1
        while [ $f -le 400 ]; do
            echo "double f${i}_$f(double x) { double s = 0; for (int k = 1; k < 64; k++) s += x / (k * $f.0 + $i); return s; }"
            f=$((f + 1))
        done
        echo "double unit$i(void) { return f${i}_1(1.0); }"
    } > "$work/unit$i.c"
    i=$((i + 1))
done
cat > "$work/Makefile" <<'MK'
SRCS := $(wildcard unit*.c)
OBJS := $(SRCS:.c=.o)
all: build.tar.gz sync.out
%.o: %.c
	cc -O2 -c $< -o $@
build.tar.gz: $(OBJS)
	tar czf $@ $(OBJS)
sync.out: build.tar.gz
	dd if=build.tar.gz of=$@ bs=4k conv=fsync status=none
	sleep 1
MK
"$denet" run --collector "$collector" --json --out "$here/build-$collector.jsonl" \
    -- make -C "$work" -j4 --no-print-directory
echo "recorded $here/build-$collector.jsonl ($(wc -l < "$here/build-$collector.jsonl") lines)"
