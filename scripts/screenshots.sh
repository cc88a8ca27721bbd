#!/bin/bash
# Screenshots of the real app watching a real command: a parallel C build (make -j4 of generated
# sources), run in tmux at several terminal sizes. Textual saves the SVG itself
# (TEXTUAL_SCREENSHOT); rsvg-convert makes the PNG.
#   scripts/screenshots.sh            → screenshots/*.svg and screenshots/*.png
# Needs root for eBPF, tmux, librsvg2-bin and fonts-dejavu-core.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=$repo/screenshots
denet=$repo/.venv/bin/denet-tui
for tool in tmux rsvg-convert; do
    command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool is not installed" >&2; exit 1; }
done
fc-list | grep -qi "DejaVu Sans Mono" || echo "screenshots.sh: no DejaVu Sans Mono: PNGs use a fallback" >&2
mkdir -p "$out"
work=$(mktemp -d /tmp/denet-shots.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The watched command: a small C project, built with make -j6 (about 20 s on 2 cores).
for i in $(seq 1 28); do
    {
        echo "#include <stdio.h>"
        for f in $(seq 1 400); do
            echo "double f${i}_$f(double x) { double s = 0; for (int k = 1; k < 64; k++) s += x / (k * $f.0 + $i); return s; }"
        done
        echo "double unit$i(void) { return f${i}_1(1.0); }"
    } > "$work/unit$i.c"
done
cat > "$work/Makefile" <<'MK'
SRCS := $(wildcard unit*.c)
OBJS := $(SRCS:.c=.o)
all: build.tar.gz
%.o: %.c
	cc -O2 -c $< -o $@
build.tar.gz: $(OBJS)
	tar czf $@ $(OBJS)
	sleep 2
clean:
	rm -f $(OBJS) build.tar.gz
MK

# shot NAME COLSxROWS SECONDS "KEYS AT SECONDS" [denet-tui run options...]
shot() {
    local name=$1 size=$2 delay=$3 keys=$4
    shift 4
    local session=denet-shot-$$
    make -s -C "$work" clean
    rm -f "$out/$name.svg"
    tmux new-session -d -s "$session" -x "${size%x*}" -y "${size#*x}" \
        "TEXTUAL_SCREENSHOT=$delay TEXTUAL_SCREENSHOT_LOCATION=$out TEXTUAL_SCREENSHOT_FILENAME=$name.svg \
         $denet run $* -- make -C $work -j6"
    if [ -n "$keys" ]; then
        sleep "${keys%% *}"
        # shellcheck disable=SC2086 # the keys are separate words
        tmux send-keys -t "$session" ${keys#* }
    fi
    while tmux has-session -t "$session" 2>/dev/null; do sleep 0.2; done
    [ -s "$out/$name.svg" ] || { echo "screenshots.sh: no $name.svg" >&2; exit 1; }
    # For rsvg: keep the &#160; spaces Textual writes (rsvg collapses them otherwise), and use
    # a font whose cells are no wider than the SVG's (rsvg ignores textLength).
    sed -e 's/<svg /<svg xml:space="preserve" /' \
        -e 's/font-family: Fira Code, monospace;/font-family: DejaVu Sans Mono, monospace;/' \
        "$out/$name.svg" > "$work/$name.svg"
    rsvg-convert "$work/$name.svg" -o "$out/$name.png"
    echo "screenshots/$name.svg screenshots/$name.png"
}

shot ebpf-160x50 160x50 12 ""
shot ebpf-80x24 80x24 12 ""
shot scoped-120x36 120x36 12 "11 Down Down Down Enter"
shot procfs-120x36 120x36 12 "" --collector procfs
shot exited-120x36 120x36 32 ""
shot programs-120x36 120x36 14 "10 6"
shot files-120x36 120x36 14 "10 7"
