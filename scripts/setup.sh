#!/usr/bin/env bash
# Everything Xendeck needs on a fresh Debian machine, installed idempotently:
# Debian packages (real Xen clients and libraries, QEMU, Chromium, compilers),
# npm packages, and the native helper. Run by `npm test` and `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(
  build-essential pkg-config          # the native helper
  libxen-dev libjansson-dev           # libxenstore and jansson for the helper
  clang libclang-rt-14-dev            # libFuzzer targets with ASan/UBSan (the runtime is only a recommendation of clang)
  xenstore-utils python3-pyxs         # real xenstore clients for protocol tests
  qemu-system-x86 genisoimage         # real QEMU for QMP tests
  chromium                            # UI and IndexedDB tests
  procps                              # ps/pgrep for process checks in tests
)

missing=()
for p in "${APT_PKGS[@]}"; do
  [[ $p == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "setup: please install these Debian packages as root: ${missing[*]}" >&2; exit 2
    fi
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages (rollup's, esbuild's)
  # out of the lock file and `npm ci` then refuses it; install still pins every version the lock holds.
  npm install --no-audit --no-fund --loglevel=error
fi

# The native helper.
if [ -f native/Makefile ]; then
  make -s -C native
fi

# The renderer bundle.
if [ -f renderer/vite.config.ts ] && { [ ! -f renderer/dist/index.html ] || [ -n "$(find renderer/src renderer/index.html -newer renderer/dist/index.html -print -quit 2>/dev/null)" ]; }; then
  npx vite build renderer --logLevel warn
fi
