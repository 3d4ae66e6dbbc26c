#!/usr/bin/env bash
# The Python guest's build, idempotent:
#   guests-py/build.sh OUT.wasm      builds guests-py/state-sync into the component OUT.wasm
#   guests-py/build.sh --toolchain   only installs the toolchain (CI runs this first)
#   guests-py/build.sh --test        runs the hook's Python unit tests
# The toolchain is componentize-py, pinned with hashes in requirements.txt, in a venv under
# ~/.cache/wasm-hooks (WASM_HOOKS_TOOLS overrides). It needs python3 with venv and pip, and
# PyPI on first use. Every failure exits non-zero and says what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
version=$(sed -n 's/^componentize-py==\([^ ]*\).*/\1/p' "$here/requirements.txt")
tools="${WASM_HOOKS_TOOLS:-$HOME/.cache/wasm-hooks}"
venv="$tools/componentize-py-$version"

fail() { echo "guests-py/build.sh: $*" >&2; exit 1; }

toolchain() {
  [[ -f "$venv/.installed" ]] && return
  command -v python3 >/dev/null || fail "python3 is not installed; install Python 3.9 or later (with venv and pip)"
  mkdir -p "$tools"
  exec 9>"$tools/componentize-py.lock"
  flock 9 # tests build concurrently; one installs, the others wait
  [[ -f "$venv/.installed" ]] && return
  rm -rf "$venv" # a venv cannot be moved into place, so a half-made one is removed instead
  python3 -m venv "$venv" || fail "python3 -m venv failed; on Debian: apt-get install python3-venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$here/requirements.txt" \
    || fail "cannot install componentize-py $version from PyPI (see pip's message above)"
  "$venv/bin/componentize-py" --version >/dev/null || fail "componentize-py $version does not run on this machine"
  touch "$venv/.installed"
}

case "${1:-}" in
  --toolchain)
    toolchain
    echo "$venv/bin/componentize-py"
    ;;
  --test)
    toolchain
    cd "$here/state-sync"
    PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m unittest discover --start-directory tests --top-level-directory .
    ;;
  "" | -*)
    fail "usage: guests-py/build.sh OUT.wasm | --toolchain | --test"
    ;;
  *)
    toolchain
    out=$1
    # Up to date: no source, WIT or toolchain pin newer than the component (componentize-py
    # builds are not byte-for-byte reproducible, so a rebuild would also void compile caches).
    newer=$(find "$here/state-sync" "$root/wit" "$here/requirements.txt" "$0" -name __pycache__ -prune \
      -o -newer "$out" -print -quit 2>/dev/null || echo rebuild)
    [[ -f "$out" && -z "$newer" ]] && exit 0
    mkdir -p "$(dirname "$out")"
    tmp="$out.tmp.$$"
    trap 'rm -f "$tmp"' EXIT
    # VIRTUAL_ENV names the toolchain's own venv, so no other site-packages leak into the build.
    VIRTUAL_ENV="$venv" "$venv/bin/componentize-py" --quiet --wit-path "$root/wit" --world hook-guest \
      componentize --python-path "$here/state-sync" app --output "$tmp"
    mv "$tmp" "$out"
    ;;
esac
