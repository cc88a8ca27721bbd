#!/usr/bin/env bash
# Set up everything denet-tui needs on a Debian 12 machine. Idempotent: a second run changes nothing
# and only prints "ok:" lines. One line per step:
#   ok: ...                   already in place
#   installed: ... / done: ... this run changed something
#   skipped (not root): ...   needs root; says what to run
#   warning: ...              could not be done; `denet-tui doctor` tells what that costs
# Steps: apt packages, kernel-headers fallback, tracefs (+ debugfs if BCC needs it), .venv, pip install.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

APT_PACKAGES=(python3-bpfcc bpfcc-tools bpftool linux-headers-amd64 strace tmux librsvg2-bin
              python3-venv linux-perf fonts-dejavu-core linux-libc-dev time prometheus
              chromium)
VENV="$REPO/.venv"
BASE_PYTHON=/usr/bin/python3          # Debian's python: the one that can import Debian's bcc
STAMP="$VENV/.denet-tui-pyproject.sha256"
KREL="$(uname -r)"
MODDIR="/lib/modules/$KREL"
ARCH=amd64

if [[ "$(id -u)" -eq 0 ]]; then IS_ROOT=1; else IS_ROOT=0; fi
LOG="$(mktemp -t denet-setup.XXXXXX)"
trap 'rm -f "$LOG"' EXIT

ok() { echo "ok: $*"; }
skipped() { echo "skipped (not root): $*"; }
warn() { echo "warning: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }
# Run a command quietly; on failure show its output and stop.
quiet() {
    if ! "$@" >"$LOG" 2>&1; then
        cat "$LOG" >&2
        die "failed: $*"
    fi
}

# Two setups at once in the same checkout (e.g. two `make test`) would race on pip: serialize them.
exec 9<"${BASH_SOURCE[0]}"
flock 9

# --- 1. apt packages ---------------------------------------------------------------------------
step_apt() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" != ii* ]]; then
            missing+=("$p")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        ok "apt packages present (${APT_PACKAGES[*]})"
        return
    fi
    if [[ $IS_ROOT -eq 0 ]]; then
        skipped "apt packages missing: ${missing[*]} — as root run: apt-get install ${missing[*]}" \
                "(or: sudo bash scripts/setup.sh)"
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    quiet apt-get update -qq
    quiet apt-get install -y -qq --no-install-recommends "${missing[@]}"
    echo "installed: ${missing[*]}"
}

# --- 2. kernel headers -------------------------------------------------------------------------
# BCC compiles against /lib/modules/$(uname -r)/build (and .../source). This kernel has no headers
# package, so point those at Debian's linux-headers-amd64; tracepoint programs only use stable
# types, so the version skew is harmless.
usable_headers() { [[ -d "$1/include" ]]; }

step_headers() {
    local build="$MODDIR/build" source="$MODDIR/source"
    local newest common
    newest="$(ls -d /usr/src/linux-headers-*-"$ARCH" 2>/dev/null | sort -V | tail -n 1 || true)"
    if usable_headers "$build"; then
        local target
        target="$(readlink -f "$build")"
        if [[ -L "$build" && "$target" == /usr/src/linux-headers-*-"$ARCH" ]]; then
            # Our fallback. Keep it, but follow a newer headers package and fill in a missing source.
            common="${newest%-"$ARCH"}-common"
            if [[ -n "$newest" && "$target" != "$newest" ]] \
                || { [[ -n "$newest" && -d "$common" ]] && ! usable_headers "$source"; }; then
                if [[ $IS_ROOT -eq 1 ]]; then
                    ln -sfn "$newest" "$build"
                    [[ -d "$common" ]] && ln -sfn "$common" "$source"
                    echo "done: kernel headers fallback updated: $build -> $newest"
                    return
                fi
                skipped "kernel headers fallback is stale ($build -> $target); as root run: bash scripts/setup.sh"
                return
            fi
            ok "kernel headers: fallback $build -> $target (running kernel $KREL has no headers package)"
        else
            ok "kernel headers: $build has headers for the running kernel"
        fi
        return
    fi
    if [[ -z "$newest" ]]; then
        if [[ $IS_ROOT -eq 0 ]]; then
            skipped "kernel headers: no $build and no /usr/src/linux-headers-*-$ARCH; as root run: bash scripts/setup.sh"
        else
            warn "kernel headers: no $build and no /usr/src/linux-headers-*-$ARCH installed"
        fi
        return
    fi
    common="${newest%-"$ARCH"}-common"
    if [[ $IS_ROOT -eq 0 ]]; then
        skipped "kernel headers: $build missing; as root run: mkdir -p $MODDIR && ln -sfn $newest $build" \
                "&& ln -sfn $common $source  (or: sudo bash scripts/setup.sh)"
        return
    fi
    mkdir -p "$MODDIR"
    # A dangling symlink or an empty directory is not worth keeping; a real tree would have passed.
    if [[ -L "$build" || ! -e "$build" ]]; then ln -sfn "$newest" "$build"; else
        warn "kernel headers: $build exists but has no include/; left it alone"; return; fi
    if [[ -d "$common" ]] && { [[ -L "$source" ]] || [[ ! -e "$source" ]]; }; then
        ln -sfn "$common" "$source"
    fi
    echo "done: kernel headers fallback: $build -> $newest, $source -> $common"
}

# --- 3. tracefs (and debugfs only if this BCC insists on it) -----------------------------------
mounted() { awk -v d="$1" -v t="$2" '$2 == d && $3 == t { f = 1 } END { exit !f }' /proc/mounts; }

step_tracefs() {
    local tr=/sys/kernel/tracing
    if [[ -d "$tr/events" ]] || mounted "$tr" tracefs; then
        ok "tracefs mounted at $tr"
    elif [[ $IS_ROOT -eq 0 ]]; then
        skipped "tracefs not mounted (or not readable); as root run: mount -t tracefs nodev $tr"
    elif mount -t tracefs nodev "$tr" 2>"$LOG"; then
        echo "done: mounted tracefs at $tr"
    else
        warn "could not mount tracefs at $tr: $(head -n 1 "$LOG")"
    fi
}

step_debugfs() {
    # bcc/__init__.py: TRACEFS = /sys/kernel/debug/tracing, falling back to /sys/kernel/tracing when
    # that does not exist. With the fallback, debugfs is not needed.
    local init=/usr/lib/python3/dist-packages/bcc/__init__.py dbg=/sys/kernel/debug
    if [[ ! -f "$init" ]] || grep -q '"/sys/kernel/tracing"' "$init"; then
        ok "debugfs not needed (BCC falls back to /sys/kernel/tracing)"
    elif mounted "$dbg" debugfs; then
        ok "debugfs mounted at $dbg"
    elif [[ $IS_ROOT -eq 0 ]]; then
        skipped "this BCC reads $dbg/tracing; as root run: mount -t debugfs nodev $dbg"
    elif mount -t debugfs nodev "$dbg" 2>"$LOG"; then
        echo "done: mounted debugfs at $dbg"
    else
        warn "could not mount debugfs at $dbg: $(head -n 1 "$LOG")"
    fi
}

# --- 4. virtualenv -----------------------------------------------------------------------------
step_venv() {
    local cfg="$VENV/pyvenv.cfg" base
    if [[ -x "$VENV/bin/python" && -f "$cfg" ]]; then
        base="$(sed -n 's/^home *= *//p' "$cfg")"
        if [[ "$base" != /usr/bin ]]; then
            echo "note: $VENV was made from $base/python3, not $BASE_PYTHON (which can import bcc); remaking it"
            rm -rf "$VENV"
        elif ! grep -qiE '^include-system-site-packages *= *true' "$cfg"; then
            sed -i -E 's/^(include-system-site-packages *= *).*/\1true/I' "$cfg"
            echo "done: $VENV now sees system site-packages (Debian's bcc)"
            return
        else
            ok "venv $VENV ($BASE_PYTHON, --system-site-packages)"
            return
        fi
    fi
    if ! "$BASE_PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
        die "$BASE_PYTHON cannot make a venv (python3-venv missing); as root run: apt-get install python3-venv"
    fi
    quiet "$BASE_PYTHON" -m venv --system-site-packages "$VENV"
    rm -f "$STAMP"
    echo "done: created $VENV ($BASE_PYTHON -m venv --system-site-packages)"
}

# --- 5. pip install -e '.[test]' when pyproject.toml changed -----------------------------------
step_pip() {
    local want have=""
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    [[ -f "$STAMP" ]] && have="$(cat "$STAMP")"
    if [[ "$want" == "$have" && -x "$VENV/bin/denet-tui" ]]; then
        ok "python packages up to date (pyproject.toml unchanged since last install)"
        return
    fi
    # Never the PyPI project called "bcc": it is unrelated to BPF. bcc comes from python3-bpfcc.
    quiet "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" >"$STAMP"
    echo "installed: python packages (pip install -e '.[test]')"
}

step_bcc() {
    local where
    if where="$("$VENV/bin/python" -c 'import bcc, os; print(os.path.dirname(bcc.__file__))' 2>/dev/null)"; then
        if [[ "$where" == /usr/lib/python3/dist-packages/* ]]; then
            ok "import bcc works from .venv ($where)"
        else
            warn "import bcc from .venv finds $where, not Debian's python3-bpfcc; run: $VENV/bin/pip uninstall bcc"
        fi
    elif [[ $IS_ROOT -eq 0 ]]; then
        skipped "import bcc fails from .venv (python3-bpfcc not installed?); as root run: bash scripts/setup.sh"
    else
        warn "import bcc fails from .venv: $("$VENV/bin/python" -c 'import bcc' 2>&1 | tail -n 1)"
    fi
}

step_apt
step_headers
step_tracefs
step_debugfs
step_venv
step_pip
step_bcc
