# shellcheck shell=bash disable=SC2034 # the names are used by the scripts that source this
# Shared by the container stages (.ci/image, .ci/container-tests, .ci/deploy, .ci/cleanup):
# where they keep their files, the private podman/buildah configuration, and small helpers.
#
# No Docker engine and no registry here: images are built by buildah from a Debian root
# filesystem (debootstrap) and run by podman, both with their own storage and configuration
# under $LATCHKEY_CI_DIR (default /var/tmp/latchkey-ci), never the system's defaults:
# overlay or vfs storage (below), runc (crun fails on this host's hybrid cgroups), cgroupfs, ulimits no higher
# than this shell's hard limits, host networking (containers listen on 127.0.0.1 only; port
# mapping would create a bridge on a private address range), no registry lookups.
#
# Storage driver: overlay where this kernel mounts overlayfs (checked once; it does on this
# machine kind, and then a container is created in milliseconds), else vfs, which copies the
# whole image for every container (seconds). LATCHKEY_CI_STORAGE_DRIVER=vfs|overlay forces one.

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CI_DIR=${LATCHKEY_CI_DIR:-/var/tmp/latchkey-ci}
# Images: the two bases made from the debootstrap root filesystem, and Latchkey's.
BASE_RUNTIME_IMAGE=localhost/latchkey-base:runtime
BASE_BUILD_IMAGE=localhost/latchkey-base:build
IMAGE=${LATCHKEY_IMAGE:-localhost/latchkey:ci}
# What the image build leaves beside the image: the compressed archive and the SBOM.
IMAGE_OUT=${LATCHKEY_IMAGE_OUT:-$CI_ROOT/dist/image}
# Containers the stages create are named with this prefix, so that cleanup finds them all.
CT_PREFIX=latchkey-ci-

export CONTAINERS_STORAGE_CONF=$CI_DIR/storage.conf
export CONTAINERS_CONF=$CI_DIR/containers.conf
export CONTAINERS_REGISTRIES_CONF=$CI_DIR/registries.conf
export BUILDAH_ISOLATION=chroot

log() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# stage_time <name> <start seconds>: one line with the time a stage took.
stage_time() { printf '== %s took %ss\n' "$1" "$(($(date +%s) - $2))"; }

# need_tools: the Debian packages the container stages use (the set they were tested with),
# installed when missing.
need_tools() {
  local pkg missing=()
  for pkg in debootstrap buildah podman runc conmon containers-storage fuse-overlayfs uidmap gzip curl; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing ${missing[*]} (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
  fi
}

# storage_driver: overlay if a kernel overlayfs mount works under $CI_DIR, else vfs.
storage_driver() {
  if [ -n "${LATCHKEY_CI_STORAGE_DRIVER:-}" ]; then
    echo "$LATCHKEY_CI_STORAGE_DRIVER"
    return
  fi
  # Storage made with one driver stays with it.
  if [ -d "$CI_DIR/storage/vfs-layers" ]; then
    echo vfs
    return
  fi
  if [ -d "$CI_DIR/storage/overlay" ]; then
    echo overlay
    return
  fi
  local probe=$CI_DIR/overlay-probe driver=vfs
  rm -rf "$probe"
  mkdir -p "$probe"/{lower,upper,work,merged}
  echo ok >"$probe/lower/file"
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
    "$probe/merged" 2>/dev/null; then
    [ "$(cat "$probe/merged/file" 2>/dev/null)" = ok ] && driver=overlay
    umount "$probe/merged" 2>/dev/null || true
  fi
  rm -rf "$probe"
  echo "$driver"
}

# write_container_config: the private storage, engine and registries configuration.
write_container_config() {
  mkdir -p "$CI_DIR"
  STORAGE_DRIVER=$(storage_driver)
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=65536
  [ "$nproc" = unlimited ] && nproc=32768
  [ "$nofile" -gt 65536 ] && nofile=65536
  [ "$nproc" -gt 32768 ] && nproc=32768
  cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "$STORAGE_DRIVER"
graphroot = "$CI_DIR/storage"
runroot = "$CI_DIR/run"
CONF
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$CI_DIR/events.log"
static_dir = "$CI_DIR/libpod"
tmp_dir = "$CI_DIR/tmp"
volume_path = "$CI_DIR/volumes"
CONF
  # Short names never go to a registry: every image here is localhost/….
  cat >"$CONTAINERS_REGISTRIES_CONF" <<CONF
unqualified-search-registries = []
short-name-mode = "disabled"
CONF
}

# podman without the lines it writes for every container with a HEALTHCHECK here: it would
# run the check from a systemd timer, and this host has no systemd (`podman healthcheck run`
# runs it on demand).
podman() {
  command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}

image_exists() { podman image exists "$1" 2>/dev/null; }

# A random value of n bytes, base64url without padding.
random_b64url() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http <url> <seconds>: until the URL answers 200; fails after the given time.
wait_http() {
  local url=$1 deadline=$(($(date +%s) + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" = 200 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# remove_containers: every container the stages made (running or not).
remove_containers() {
  local ids
  ids=$(podman ps -aq --filter "name=^$CT_PREFIX" 2>/dev/null || true)
  # shellcheck disable=SC2086 # one id a word
  [ -n "$ids" ] && podman rm -f -t 5 $ids >/dev/null 2>&1 || true
}

# start_latchkey <name> <port> [podman run options…]: a detached Latchkey container on
# 127.0.0.1:<port> (host network, read-only root without even a tmpfs /tmp, as `docker run
# --read-only`), with the run's secret, bootstrap key and
# admin password (LK_SECRET, LK_API_KEY, LK_ADMIN_PASSWORD); waits until /readyz is 200.
# PUBLIC_URL is the container's own address unless LK_PUBLIC_URL is set (nodes behind a proxy).
# `--image <image>` may come first (default $IMAGE); then podman run options (-v, -e …).
start_latchkey() {
  local name=$1 port=$2 image=$IMAGE
  shift 2
  if [ "${1:-}" = --image ]; then
    image=$2
    shift 2
  fi
  podman rm -f -t 2 "$name" >/dev/null 2>&1 || true
  # The HEALTHCHECK is the image's; its timer would need systemd, which this host has not
  # (`podman healthcheck run` still runs it on demand).
  LATCHKEY_SECRET=$LK_SECRET LATCHKEY_BOOTSTRAP_API_KEY=$LK_API_KEY \
    LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD=$LK_ADMIN_PASSWORD \
    podman run -d --pull=never --name "$name" --network host --read-only --read-only-tmpfs=false --health-interval=disable \
    -e HOST=127.0.0.1 -e PORT="$port" -e PUBLIC_URL="${LK_PUBLIC_URL:-http://127.0.0.1:$port}" \
    -e LATCHKEY_SECRET -e LATCHKEY_BOOTSTRAP_API_KEY -e LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD \
    "$@" "$image" >/dev/null
  if ! wait_http "http://127.0.0.1:$port/readyz" 60; then
    podman logs --tail 40 "$name" >&2 || true
    printf 'error: container %s did not answer /readyz 200 within 60 s\n' "$name" >&2
    return 1
  fi
}

# new_run_credentials: LK_SECRET, LK_API_KEY and LK_ADMIN_PASSWORD, random for this run.
new_run_credentials() {
  LK_SECRET=$(random_b64url 48)
  LK_API_KEY=lk_$(random_b64url 32)
  LK_ADMIN_PASSWORD=$(random_b64url 24)
  export LK_SECRET LK_API_KEY LK_ADMIN_PASSWORD
}

# latchkey_cli: the repository's CLI (packages/server/dist, built if missing).
latchkey_cli() {
  if [ ! -f "$CI_ROOT/packages/server/dist/cli.js" ]; then
    (cd "$CI_ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null; } && npx tsc -b packages/server)
  fi
  node "$CI_ROOT/packages/server/bin/latchkey.cjs" "$@"
}

# smoke <port>: the smoke suite against http://127.0.0.1:<port> with the run's key.
smoke() {
  LATCHKEY_SMOKE_API_KEY=$LK_API_KEY latchkey_cli smoke --url "http://127.0.0.1:$1"
}

# psql_admin <sql>: on the machine's PostgreSQL as postgres.
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAtc "$1"; }
