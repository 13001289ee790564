#!/usr/bin/env bash
# Installs what `make run` / `make test` need and is missing: the virtualenv (.venv), the Python
# packages (only when the requirements files changed since the last install: a stamp in .venv),
# and the Debian packages WeasyPrint needs for Chinese PDFs (plus poppler-utils for the tests).
#
#   scripts/bootstrap.sh          runtime: requirements.txt
#   scripts/bootstrap.sh dev      tests:   requirements-dev.txt (which includes requirements.txt)
#
# System packages are installed with apt-get when running as root; otherwise the exact apt line
# is printed and the run continues (only PDF rendering of Chinese text depends on them).
set -euo pipefail

cd "$(dirname "$0")/.."
MODE="${1:-run}"
VENV="${VENV:-.venv}"
say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
is_root() { [ "$(id -u)" = "0" ]; }

# --- system packages -----------------------------------------------------------------------
SYS_PKGS=(libharfbuzz-subset0 fonts-noto-cjk redis-server)
# dev: the mail-loop tests start a real IMAP/POP3 server (dovecot, as a non-root process); the
# traffic tests start a real SNMP agent (net-snmp snmpd on a high port, as a non-root process);
# the browser tests (tests/browser) drive Debian's chromium through Playwright (never
# `playwright install`: its own browser download is not available); bench/scale_bench.py loads the
# web server with wrk (it falls back to a Python client without it).
[ "$MODE" = "dev" ] && SYS_PKGS+=(poppler-utils dovecot-imapd dovecot-pop3d snmpd snmp chromium wrk)

apt_install() {  # apt_install pkg...: install as root, else print the line; never fatal
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        say "missing system packages: ${missing[*]}"
        say "install them with:  sudo apt-get install -y --no-install-recommends ${missing[*]}"
        return 0
    fi
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when apt does not know a package (a fresh image has none).
    local need_update=0
    for p in "${missing[@]}"; do
        apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]' || need_update=1
    done
    if [ $need_update = 1 ]; then
        apt-get update -qq || say "apt-get update failed"
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || say "apt-get install failed; install by hand: apt-get install -y ${missing[*]}"
}

if command -v dpkg >/dev/null 2>&1; then
    apt_install "${SYS_PKGS[@]}"
else
    say "not a Debian system: install HarfBuzz (subset) and a CJK font (Noto CJK) for PDFs yourself"
fi

# --- virtualenv ----------------------------------------------------------------------------
pick_python() {
    for c in "${PYTHON:-}" python3.11 python3 python; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(pick_python)" || { say "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)"; exit 1; }
    say "creating $VENV with $PY ($("$PY" --version 2>&1))"
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        # Debian ships venv/ensurepip separately.
        rm -rf "$VENV"
        ver="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        if is_root && command -v apt-get >/dev/null 2>&1; then
            apt_install "python${ver}-venv"
            "$PY" -m venv "$VENV"
        else
            say "cannot create a virtualenv; install venv with:  sudo apt-get install -y python${ver}-venv"
            exit 1
        fi
    fi
fi

# --- Python packages -----------------------------------------------------------------------
if [ "$MODE" = "dev" ]; then
    REQ=requirements-dev.txt; FILES=(requirements.txt requirements-dev.txt)
else
    REQ=requirements.txt; FILES=(requirements.txt)
fi
STAMP="$VENV/.installed-$MODE"
WANT="$(cat "${FILES[@]}" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    say "installing Python packages from $REQ"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
    echo "$WANT" > "$STAMP"
    # requirements-dev.txt includes requirements.txt: the runtime set is installed too.
    if [ "$MODE" = "dev" ]; then
        sha256sum < requirements.txt | cut -d' ' -f1 > "$VENV/.installed-run"
    fi
fi
