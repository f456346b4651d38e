#!/usr/bin/env bash
# Bring up a local Docker daemon (no systemd) and the sandbox image that score-env runs untrusted code in.
#
# Idempotent: packages already installed, a daemon already answering, and an image already built (with the
# current recipe) are each left alone, so a second run takes about a second.
#
#   1. apt-get install docker.io debootstrap (apt-get update only when the install fails without it).
#   2. Start dockerd in the background (log: /tmp/dockerd.log, pid: /tmp/dockerd.pid) and wait for `docker info`.
#      No bridge and no iptables rules: the sandbox only runs `--network none` containers, so the host's firewall
#      and interfaces are left untouched, and a container started without `--network none` gets no network
#      either. If the daemon does not come up, it is retried once with `--storage-driver=vfs`.
#   3. Build score-env-sandbox:latest: debootstrap a minbase Debian bookworm with python3 (full stdlib) from the
#      mirror this machine's apt uses, strip docs/caches, `docker import` it with user 65534:65534.
#   4. When the daemon was started or the image built by this run: check that a sandboxed container runs Python
#      and that --memory, --pids-limit and --cpus are enforced (fails the script if not).
#
# Environment overrides: DOCKERD_FLAGS (replaces the default flags), SANDBOX_IMAGE, SANDBOX_MIRROR,
# SANDBOX_CHECKS=auto|always|never. Stop the daemon with .ci/docker_down.sh.
set -euo pipefail

IMAGE=${SANDBOX_IMAGE:-score-env-sandbox:latest}
SUITE=bookworm
# Bump when the image recipe below changes: an image with another recipe label is rebuilt.
RECIPE=1
DOCKERD_LOG=/tmp/dockerd.log
DOCKERD_PID=/tmp/dockerd.pid
DOCKERD_WAIT_S=60
read -r -a DEFAULT_FLAGS <<<"${DOCKERD_FLAGS:---iptables=false --ip6tables=false --bridge=none}"
CHECKS=${SANDBOX_CHECKS:-auto}
export DEBIAN_FRONTEND=noninteractive

log() { printf '[docker_up] %s\n' "$*"; }
die() {
  printf '[docker_up] ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "12.3s"
  local ms=$(($(now_ms) - $1))
  printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
T_ALL=$(now_ms)
STARTED_DAEMON=0
BUILT_IMAGE=0

# --- 1. packages -------------------------------------------------------------------------------------------------
T=$(now_ms)
if command -v dockerd >/dev/null && command -v docker >/dev/null && command -v debootstrap >/dev/null; then
  log "packages: docker.io and debootstrap already installed ($(elapsed "$T"))"
else
  APT=(apt-get -y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 --no-install-recommends)
  if ! "${APT[@]}" install docker.io debootstrap >/tmp/docker_up.apt.log 2>&1; then
    log "packages: install failed with the current lists, running apt-get update"
    "${APT[@]}" update >>/tmp/docker_up.apt.log 2>&1 || {
      tail -n 20 /tmp/docker_up.apt.log >&2
      die "apt-get update failed"
    }
    "${APT[@]}" install docker.io debootstrap >>/tmp/docker_up.apt.log 2>&1 || {
      tail -n 20 /tmp/docker_up.apt.log >&2
      die "apt-get install docker.io debootstrap failed (log: /tmp/docker_up.apt.log)"
    }
  fi
  log "packages: installed docker.io debootstrap ($(elapsed "$T"))"
fi

# --- 2. daemon ---------------------------------------------------------------------------------------------------
daemon_pid() { # prints the pid from the pidfile if that process is a live dockerd
  local pid
  pid=$(cat "$DOCKERD_PID" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

start_dockerd() { # start_dockerd FLAGS... -> 0 once `docker info` answers, 1 if dockerd died or timed out
  local pid i
  rm -f "$DOCKERD_PID"
  printf '\n=== %s dockerd %s\n' "$(date -u +%FT%TZ)" "$*" >>"$DOCKERD_LOG"
  # setsid: own session, so the daemon outlives the calling CI step; all three fds redirected so nobody waits on it.
  setsid dockerd --pidfile="$DOCKERD_PID" "$@" </dev/null >>"$DOCKERD_LOG" 2>&1 &
  pid=$!
  for ((i = 0; i < DOCKERD_WAIT_S * 4; i++)); do
    if docker info >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "daemon: dockerd $* exited during startup; log tail:"
      tail -n 200 "$DOCKERD_LOG" | grep -v 'module=grpc' | tail -n 8 | sed 's/^/    /' >&2
      return 1
    fi
    sleep 0.25
  done
  log "daemon: dockerd $* did not answer within ${DOCKERD_WAIT_S}s; stopping it"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  return 1
}

T=$(now_ms)
if docker info >/dev/null 2>&1; then
  log "daemon: already running ($(elapsed "$T"))"
else
  if pid=$(daemon_pid); then
    # Ours, but not answering (still starting, or wedged): give it the usual time, then restart it.
    log "daemon: dockerd $pid from $DOCKERD_PID is not answering yet; waiting"
    for ((i = 0; i < DOCKERD_WAIT_S * 4; i++)); do docker info >/dev/null 2>&1 && break; sleep 0.25; done
    if ! docker info >/dev/null 2>&1; then
      log "daemon: still not answering; stopping it"
      "$(dirname "$0")/docker_down.sh"
    fi
  fi
  if ! docker info >/dev/null 2>&1; then
    if start_dockerd "${DEFAULT_FLAGS[@]}"; then
      log "daemon: started dockerd ${DEFAULT_FLAGS[*]} ($(elapsed "$T"))"
    elif start_dockerd "${DEFAULT_FLAGS[@]}" --storage-driver=vfs; then
      log "daemon: started dockerd ${DEFAULT_FLAGS[*]} --storage-driver=vfs ($(elapsed "$T"))"
    else
      die "could not start dockerd (log: $DOCKERD_LOG)"
    fi
    STARTED_DAEMON=1
  fi
fi
log "daemon: $(docker info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})' 2>/dev/null), pid $(daemon_pid || echo '? (not started by this script)')"

# --- 3. image ----------------------------------------------------------------------------------------------------
detect_mirror() { # the Debian archive this machine's apt uses (deb822 .sources or one-line .list format)
  {
    sed -nE 's/^[[:space:]]*URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
    sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | grep -E '^https?://[^[:space:]]+/debian(/[0-9]{8}T[0-9]{6}Z)?/?$' | head -n 1
}

image_recipe() { docker image inspect --format '{{index .Config.Labels "score-env.sandbox.recipe"}}' "$IMAGE" 2>/dev/null; }

T=$(now_ms)
if [ "$(image_recipe || true)" = "$RECIPE" ]; then
  log "image: $IMAGE already present ($(elapsed "$T"))"
else
  MIRROR=${SANDBOX_MIRROR:-$(detect_mirror || true)}
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  ROOTFS=$(mktemp -d /var/tmp/score-env-sandbox.XXXXXX)
  trap 'rm -rf "$ROOTFS"' EXIT
  log "image: debootstrap --variant=minbase $SUITE from $MIRROR into $ROOTFS"
  DEBOOTSTRAP=(debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOTFS" "$MIRROR")
  if ! "${DEBOOTSTRAP[@]}" >/tmp/docker_up.debootstrap.log 2>&1; then
    log "image: debootstrap failed, retrying once (a flaky mirror fetch is the usual cause)"
    rm -rf "$ROOTFS" && mkdir -p "$ROOTFS"
    "${DEBOOTSTRAP[@]}" >>/tmp/docker_up.debootstrap.log 2>&1 || {
      tail -n 20 /tmp/docker_up.debootstrap.log >&2
      die "debootstrap failed (log: /tmp/docker_up.debootstrap.log)"
    }
  fi
  log "image: debootstrap done ($(elapsed "$T"))"

  T2=$(now_ms)
  # The grader's programs use the stdlib only; fail here, not at grading time, if a piece is missing.
  chroot "$ROOTFS" python3 -c 'import math, cmath, collections, itertools, re, typing, heapq, functools, string, fractions, decimal, statistics, bisect, operator, json, random, dataclasses, enum, copy, numbers, sys, io' ||
    die "python3 in the image lacks a stdlib module"
  # The unprivileged user the sandbox runs as (Debian's base-passwd ships it; make sure).
  grep -q '^nogroup:x:65534:' "$ROOTFS/etc/group" || echo 'nogroup:x:65534:' >>"$ROOTFS/etc/group"
  grep -q '^nobody:x:65534:65534:' "$ROOTFS/etc/passwd" ||
    echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >>"$ROOTFS/etc/passwd"
  # Strip what a read-only Python sandbox never reads (the stdlib's precompiled .pyc files stay: /usr is
  # read-only in the container, so they save recompiling on every start).
  rm -rf "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/debconf/*-old \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
    "$ROOTFS"/usr/share/lintian "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS"/dev/*
  log "image: configured and stripped rootfs, $(du -sh "$ROOTFS" | cut -f1) ($(elapsed "$T2"))"

  T2=$(now_ms)
  tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'USER 65534:65534' \
    --change 'WORKDIR /tmp' \
    --change 'CMD ["python3"]' \
    --change "LABEL score-env.sandbox.recipe=$RECIPE score-env.sandbox.suite=$SUITE" \
    - "$IMAGE" >/dev/null
  rm -rf "$ROOTFS"
  trap - EXIT
  log "image: imported $IMAGE, $(docker image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) ($(elapsed "$T2"))"
  BUILT_IMAGE=1
fi

# --- 4. checks ---------------------------------------------------------------------------------------------------
if [ "$CHECKS" = always ] || { [ "$CHECKS" = auto ] && [ $((STARTED_DAEMON + BUILT_IMAGE)) -gt 0 ]; }; then
  T=$(now_ms)
  SANDBOX=(docker run --rm --network none --read-only --tmpfs /tmp:rw,size=64m --user 65534:65534
    --cap-drop ALL --security-opt no-new-privileges)
  out=$("${SANDBOX[@]}" --memory 256m --pids-limit 64 --cpus 1 "$IMAGE" \
    python3 -c "import math, collections, re, os; open('/tmp/x', 'w').write('x'); print('ok', os.getuid())") ||
    die "sandbox smoke test failed"
  [ "$out" = "ok 65534" ] || die "sandbox smoke test printed '$out'"

  # Memory: touching 256 MiB under a 64 MiB limit (no swap) must get the process OOM-killed (137 = SIGKILL).
  rc=0
  "${SANDBOX[@]}" --memory 64m --memory-swap 64m "$IMAGE" python3 -c "b = b'x' * (256 << 20)" 2>/dev/null || rc=$?
  [ "$rc" -eq 137 ] || die "--memory is not enforced (allocating 256 MiB under --memory 64m exited $rc, expected 137)"

  # Pids: forking must fail (EAGAIN) before 32 processes under --pids-limit 16.
  forks=$("${SANDBOX[@]}" --pids-limit 16 "$IMAGE" python3 -c '
import os, signal
kids = []
try:
    while len(kids) < 200:
        pid = os.fork()
        if pid == 0:
            signal.pause()
        kids.append(pid)
except OSError:
    pass
for pid in kids:
    os.kill(pid, signal.SIGKILL)
print(len(kids))')
  [ "$forks" -lt 16 ] || die "--pids-limit is not enforced ($forks forks under --pids-limit 16)"

  # CPU: a busy loop under --cpus 0.5 must get about half a core.
  share=$("${SANDBOX[@]}" --cpus 0.5 "$IMAGE" python3 -c '
import time
t0, c0 = time.monotonic(), time.process_time()
while time.monotonic() - t0 < 1.0:
    pass
print(round((time.process_time() - c0) / (time.monotonic() - t0), 2))')
  awk -v s="$share" 'BEGIN { exit !(s < 0.75) }' || die "--cpus is not enforced (busy loop got $share of a core under --cpus 0.5)"

  log "checks: sandbox runs python3 as 65534; --memory 64m OOM-kills (exit 137), --pids-limit 16 stops fork at $forks," \
    "--cpus 0.5 gives $share of a core ($(elapsed "$T"))"
fi

log "ready in $(elapsed "$T_ALL"): image $IMAGE, daemon log $DOCKERD_LOG"
