#!/bin/sh
# Puts `runner` (and `runner-bench`) on the PATH: copies the release build into PREFIX/bin.
#
#   swift build -c release
#   scripts/install.sh --prefix "$HOME/.local"      # → ~/.local/bin/runner
#
# PREFIX must be an absolute path of plain characters (letters, digits, / . _ - + @ ~ ,)
# without "." or ".." components, and not "/" itself; anything else is refused, so an
# odd value never reaches a command. Nothing is written outside PREFIX/bin; existing
# files there named runner or runner-bench are replaced (atomically, by rename).
set -eu

usage() { echo "usage: scripts/install.sh --prefix DIR   (after: swift build -c release)" >&2; exit 2; }

prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) echo "usage: scripts/install.sh --prefix DIR   copies .build/release/runner and runner-bench into DIR/bin"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$prefix" ] || usage

# Refuse odd prefixes: relative, root, control characters or shell specials, "." or ".." parts.
case "$prefix" in
    /*) ;;
    *) echo "install.sh: --prefix must be an absolute path (got: $prefix)" >&2; exit 2 ;;
esac
# (a final "#" keeps trailing newlines from being dropped by the command substitution)
if [ "$(printf '%s#' "$prefix" | LC_ALL=C tr -d 'A-Za-z0-9/._+@~,-')" != "#" ]; then
    echo "install.sh: --prefix may only use letters, digits and / . _ - + @ ~ , (refusing it)" >&2; exit 2
fi
case "/$prefix/" in
    */./*|*/../*) echo "install.sh: --prefix may not contain . or .. components" >&2; exit 2 ;;
esac
prefix=${prefix%/}
while [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done
[ -n "$prefix" ] || { echo "install.sh: refusing to install into /bin; choose a prefix such as \$HOME/.local" >&2; exit 2; }

here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/.build/release"
for exe in runner runner-bench; do
    [ -x "$build/$exe" ] || { echo "install.sh: $build/$exe not found; run: swift build -c release" >&2; exit 1; }
done

bin="$prefix/bin"
if [ -e "$bin" ] && [ ! -d "$bin" ]; then echo "install.sh: $bin exists and is not a folder" >&2; exit 1; fi
mkdir -p -- "$bin"
for exe in runner runner-bench; do
    tmp="$bin/.$exe.install.$$"
    cp -- "$build/$exe" "$tmp"
    chmod 755 -- "$tmp"
    mv -f -- "$tmp" "$bin/$exe"
done
echo "installed runner and runner-bench into $bin"
case ":${PATH:-}:" in
    *":$bin:"*) ;;
    *) echo "note: $bin is not on your PATH; add it, e.g.: export PATH=\"$bin:\$PATH\"" ;;
esac
