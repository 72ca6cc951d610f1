#!/usr/bin/env bash
# Stops the single-node Slurm cluster started by .ci/slurm-up.sh: slurmd, slurmctld, then
# munged, each by the pid in its pid file. Jobs still queued are cancelled first. Safe to
# run when nothing is running; always exits 0.
set -u
say() { echo "slurm-down: $*"; }
[ "$(id -u)" = 0 ] || { say "not root; nothing to do"; exit 0; }

stop_pid() {   # pid file, expected process name
    local pid; pid=$(cat "$1" 2>/dev/null) || return 0
    if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ]; then
        say "stopping $2 ($pid)"
        kill "$pid" 2>/dev/null
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$1"
}

run=/run/slurm-ci
if [ -s "$run/slurmctld.pid" ] && command -v scancel >/dev/null; then
    timeout 10 scancel --user=root --quiet 2>/dev/null || true
fi
stop_pid "$run/slurmd.pid" slurmd
stop_pid "$run/slurmctld.pid" slurmctld
stop_pid /run/munge/munged.pid munged
say "stopped"
exit 0
