#!/usr/bin/env bash
# One idempotent set-up for both README commands (npm run demo, npm test):
# checks the machine, installs missing Debian packages, runs npm ci when the
# lockfile changed, and builds everything through turbo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "wirescope setup: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (eBPF, network namespaces and apt need it): sudo npm $(basename "${npm_lifecycle_event:-test}")"
[ -r /sys/kernel/btf/vmlinux ] || die "kernel has no BTF (/sys/kernel/btf/vmlinux missing): boot a kernel built with CONFIG_DEBUG_INFO_BTF=y"
command -v apt-get >/dev/null || die "apt-get not found: Wirescope's setup targets Debian 12"

mapfile -t PKGS < <(grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$')
MISSING=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
if [ ${#MISSING[@]} -gt 0 ]; then
  echo "wirescope setup: installing Debian packages: ${MISSING[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: check the Debian mirror, then rerun: bash scripts/setup.sh"
  apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/tmp/wirescope-apt.log 2>&1 \
    || { tail -20 /tmp/wirescope-apt.log >&2; die "apt-get install ${MISSING[*]} failed (log: /tmp/wirescope-apt.log)"; }
  # Debian's service packages may start their own daemons; Wirescope runs its own instances.
  for svc in etcd prometheus prometheus-node-exporter prometheus-alertmanager; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

# As cilium-agent does: a new machine has no BPF filesystem (pins need it); agents mount it in
# their own mount namespace too, and tests that need tracefs mount it themselves.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  mkdir -p /sys/fs/bpf
  mount -t bpf bpffs /sys/fs/bpf || die "cannot mount the BPF filesystem: mount -t bpf bpffs /sys/fs/bpf"
  echo "wirescope setup: mounted bpffs at /sys/fs/bpf"
fi

# npm ci only when package-lock.json changed since the last successful install (or the
# wirescope bin link is missing: installs made before the CLI had a committed bin entry).
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ ! -e node_modules/.bin/wirescope ] || [ "$(cat .setup-stamp 2>/dev/null)" != "$LOCK_SUM" ]; then
  echo "wirescope setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed: see the npm output above"
  echo "$LOCK_SUM" > .setup-stamp
fi

echo "wirescope setup: building"
npx turbo run build --output-logs=errors-only || die "build failed: run 'npx turbo run build' to see why"
