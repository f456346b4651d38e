#!/usr/bin/env bash
# Stop the dockerd that .ci/docker_up.sh started (pid in /tmp/dockerd.pid). Harmless when it is not running; a
# daemon this script did not start is left alone. The image stays in /var/lib/docker for the next docker_up.sh.
set -euo pipefail

DOCKERD_PID=/tmp/dockerd.pid
STOP_WAIT_S=60

log() { printf '[docker_down] %s\n' "$*"; }
now_ms() { date +%s%3N; }
T=$(now_ms)

pid=$(cat "$DOCKERD_PID" 2>/dev/null || true)
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  rm -f "$DOCKERD_PID"
  if docker info >/dev/null 2>&1; then
    log "a docker daemon is running but was not started by docker_up.sh; leaving it alone"
  else
    log "dockerd is not running"
  fi
  exit 0
fi

# Sandbox containers are disposable: kill them now rather than let dockerd wait out each one's stop timeout.
running=$(timeout 10 docker ps -q 2>/dev/null || true)
if [ -n "$running" ]; then
  # shellcheck disable=SC2086
  timeout 30 docker kill $running >/dev/null 2>&1 || true
fi

# dockerd's own containerd (started with it) keeps its pid here; it should exit with dockerd.
containerd_pid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || true)

kill -TERM "$pid" 2>/dev/null || true
for ((i = 0; i < STOP_WAIT_S * 4; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.25
done
if kill -0 "$pid" 2>/dev/null; then
  log "dockerd $pid did not exit within ${STOP_WAIT_S}s of SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
fi
if [ -n "$containerd_pid" ] && [ "$(cat "/proc/$containerd_pid/comm" 2>/dev/null)" = containerd ]; then
  log "dockerd's containerd $containerd_pid outlived it; stopping it"
  kill -TERM "$containerd_pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$containerd_pid" 2>/dev/null || true
fi
rm -f "$DOCKERD_PID"
ms=$(($(now_ms) - T))
log "stopped dockerd $pid ($((ms / 1000)).$((ms % 1000 / 100))s)"
