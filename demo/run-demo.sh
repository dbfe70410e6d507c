#!/usr/bin/env bash
# The README's demo command: set up everything on a fresh Debian 12 machine, build
# zkeep, boot the real-ZFS test guest and show zkeep's cycle on two throwaway
# file-backed pools:  snapshot -> replicate -> prune -> restore.
#
#   sudo demo/run-demo.sh
#
# Nothing on the host is touched: the pools live and die inside the guest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" = 0 ] || { echo "run-demo.sh: run as root (it installs packages and boots a VM)" >&2; exit 2; }

echo "### installing dependencies (a few minutes on a fresh machine, instant after)"
tests/guest/install-deps.sh
echo "### building zkeep"
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
echo "### booting the real-ZFS guest (QEMU, Debian's kernel, OpenZFS 2.3)"
exec tests/guest/run.sh demo/demo-guest.sh
