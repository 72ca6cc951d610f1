#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the Slurm integration test
# (Tests/RunnerExperimentTests/SlurmTests.swift): Debian's slurm-wlm + munge, one node
# named after this host with all its cores, partition "debug", no accounting, no cgroups.
# Daemons are started directly (no systemd). Idempotent: a running cluster is left alone.
# Never fails CI: when not root or the packages cannot be installed it says so and exits 0
# (the test then skips itself).
set -u

say() { echo "slurm-up: $*"; }
skip() { say "$* — not starting Slurm (the Slurm test will be skipped)"; exit 0; }

[ "$(id -u)" = 0 ] || skip "not root"

# Packages (quiet, non-interactive; best-effort).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; } >/tmp/slurm-up-apt.log 2>&1 \
        || { tail -5 /tmp/slurm-up-apt.log; skip "apt-get could not install slurm-wlm/munge (log: /tmp/slurm-up-apt.log)"; }
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || skip "slurm binaries missing after install"
fi

host=$(hostname -s)
cpus=$(nproc)
conf_dir=/etc/slurm
state=/var/spool/slurm-ci
logs=/var/log/slurm-ci
mkdir -p "$conf_dir" "$state/ctld" "$state/d" "$logs" /run/slurm

# Already running and the node usable? Then nothing to do.
if pgrep -x slurmctld >/dev/null && pgrep -x slurmd >/dev/null && pgrep -x munged >/dev/null \
   && sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    say "already running:"; sinfo; exit 0
fi

# munge: key (once), then the daemon, which must be up before any Slurm daemon.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    say "writing a munge key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 700 /etc/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge; chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    pkill -x munged 2>/dev/null; sleep 0.5
    runuser -u munge -- /usr/sbin/munged || skip "munged did not start"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
    munge -n | unmunge >/dev/null 2>&1 || skip "munge does not work"
fi

# slurm.conf: everything the daemons run as root, state under /var/spool/slurm-ci.
cat >"$conf_dir/slurm.conf" <<EOF
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
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
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
# Slurm 22.05 reads cgroup.conf even with proctrack/linuxproc; with no cgroup plugin in use
# we disable it so slurmd does not try to set up cgroups in a container / VM.
cat >"$conf_dir/cgroup.conf" <<EOF
CgroupPlugin=disabled
EOF

# (Re)start the Slurm daemons.
pkill -x slurmd 2>/dev/null; pkill -x slurmctld 2>/dev/null; sleep 1
say "starting slurmctld and slurmd on $host ($cpus CPUs)"
/usr/sbin/slurmctld -i || { tail -20 "$logs/slurmctld.log"; skip "slurmctld did not start"; }
/usr/sbin/slurmd || { tail -20 "$logs/slurmd.log"; skip "slurmd did not start"; }

# Wait (bounded) until the node is idle.
for _ in $(seq 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then
        say "cluster ready:"; sinfo; exit 0
    fi
    sleep 1
done
say "the node did not become idle within 60 s:"; sinfo -N -l 2>&1
say "slurmctld log:"; tail -15 "$logs/slurmctld.log"
say "slurmd log:"; tail -15 "$logs/slurmd.log"
skip "cluster not ready"
