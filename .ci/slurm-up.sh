#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the Slurm integration test
# (Tests/RunnerExperimentTests/SlurmTests.swift): Debian's slurm-wlm + munge, one node
# named after this host with all its cores, partition "debug", no accounting, no cgroup
# confinement. The daemons are started directly (no systemd). Idempotent: a running,
# usable cluster is left alone. Never fails CI: when not root or the packages cannot be
# installed it says so and exits 0 (the test then skips itself). Stop: .ci/slurm-down.sh.
set -u

say() { echo "slurm-up: $*"; }
skip() { say "$* — Slurm not started (the Slurm test will be skipped)"; exit 0; }
# Stops the daemon whose pid file is $1 (only that process, and only if it is $2).
stop_pid() {
    local pid; pid=$(cat "$1" 2>/dev/null) || return 0
    if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ]; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$1"
}

[ "$(id -u)" = 0 ] || skip "not root"

# 1. Packages (quiet, non-interactive, best-effort).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; } >/tmp/slurm-up-apt.log 2>&1 \
        || { tail -5 /tmp/slurm-up-apt.log; skip "apt-get could not install slurm-wlm and munge (log: /tmp/slurm-up-apt.log)"; }
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || skip "Slurm binaries missing after the install"
fi

host=$(hostname -s)
cpus=$(nproc)
conf=/etc/slurm
state=/var/spool/slurm-ci
logs=/var/log/slurm-ci
run=/run/slurm-ci
mkdir -p "$conf" "$state/ctld" "$state/d" "$logs" "$run"

# Already up (our daemons running and the node usable)? Then nothing to do.
if [ -n "$(cat $run/slurmctld.pid 2>/dev/null)" ] && kill -0 "$(cat $run/slurmctld.pid)" 2>/dev/null \
   && [ -n "$(cat $run/slurmd.pid 2>/dev/null)" ] && kill -0 "$(cat $run/slurmd.pid)" 2>/dev/null \
   && timeout 10 sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    say "already running"; sinfo; exit 0
fi

# 2. munge: a key (once), then munged, which must be up before any Slurm daemon.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    say "writing a munge key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 700 /etc/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge; chmod 400 /etc/munge/munge.key
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_ok; then
    stop_pid /run/munge/munged.pid munged
    runuser -u munge -- /usr/sbin/munged || skip "munged did not start"
    for _ in $(seq 50); do munge_ok && break; sleep 0.2; done
    munge_ok || skip "munge does not work"
fi

# 3. slurm.conf: a single node, the daemons as root, state under /var/spool/slurm-ci.
cat >"$conf/slurm.conf" <<EOF
# Written by .ci/slurm-up.sh: a single-node test cluster.
ClusterName=runner-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# 4. cgroup.conf. Nothing here confines jobs (proctrack/linuxproc, task/none), yet slurmd
# loads a cgroup plugin at start-up. Slurm >= 23.02 can switch it off (CgroupPlugin=
# disabled); 22.05 (Debian 12) rejects that value ("cannot find cgroup plugin for
# disabled"), so there it autodetects without systemd/dbus, and if slurmd still fails on
# a cgroup error we retry once with the cgroup version pinned.
version=$(slurmd -V 2>/dev/null | awk '{print $2}')   # e.g. 22.05.8
write_cgroup_conf() { printf '# Written by .ci/slurm-up.sh\n'; printf '%s\n' "$@"; }
if [ "$(printf '%s\n' "$version" 23.02 | sort -V | head -1)" = 23.02 ]; then
    write_cgroup_conf CgroupPlugin=disabled >"$conf/cgroup.conf"
else
    write_cgroup_conf CgroupPlugin=autodetect IgnoreSystemd=yes >"$conf/cgroup.conf"
fi

# 5. (Re)start slurmctld, then slurmd.
stop_pid "$run/slurmd.pid" slurmd
stop_pid "$run/slurmctld.pid" slurmctld
say "starting slurmctld and slurmd $version on $host ($cpus CPUs)"
# -c: a clean start, without jobs or node states left from an earlier run.
/usr/sbin/slurmctld -c || { tail -20 "$logs/slurmctld.log"; skip "slurmctld did not start"; }
if ! /usr/sbin/slurmd; then
    if tail -20 "$logs/slurmd.log" | grep -qi cgroup; then
        if [ -d /sys/fs/cgroup/freezer ]; then pinned=cgroup/v1; else pinned=cgroup/v2; fi
        say "slurmd failed on a cgroup error; retrying with CgroupPlugin=$pinned"
        write_cgroup_conf CgroupPlugin=$pinned IgnoreSystemd=yes >"$conf/cgroup.conf"
        /usr/sbin/slurmd
    else false; fi || { tail -20 "$logs/slurmd.log"; skip "slurmd did not start"; }
fi

# 6. Wait (at most 60 s) until the node is idle.
for _ in $(seq 60); do
    if timeout 10 sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then
        say "cluster ready"; sinfo; exit 0
    fi
    sleep 1
done
say "the node did not become idle within 60 s:"; sinfo -N -l 2>&1
say "slurmctld log:"; tail -15 "$logs/slurmctld.log"
say "slurmd log:"; tail -15 "$logs/slurmd.log"
skip "cluster not ready"
