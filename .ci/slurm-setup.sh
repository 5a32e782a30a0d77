#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests of infra/slurm/ (test/slurm.test.ts).
#
# Idempotent: installs Debian's slurm-wlm and munge with apt when they are missing, writes a slurm.conf for this
# host (its CPUs also declared as that many "GPUs": gres/gpu backed by stand-in device files, so --gpus-per-node
# and CUDA_VISIBLE_DEVICES behave as on a GPU node), starts munged, slurmctld and slurmd unless they already run,
# and waits until the node accepts jobs.
#
# Last line of output, always one of:
#   slurm-setup: ready (…)           the cluster accepts jobs; exit 0
#   slurm-setup: unavailable: WHY    slurm could not be installed here (no apt, no network); exit 0, tests skip
#   slurm-setup: failed: WHY         slurm is installed but would not start; exit 1, tests fail
set -uo pipefail

say() { echo "slurm-setup: $*"; }
unavailable() { say "unavailable: $*"; exit 0; }
failed() { say "failed: $*"; for f in /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log; do [ -f "$f" ] && { echo "--- tail $f"; tail -n 20 "$f"; }; done; exit 1; }

[ "$(id -u)" -eq 0 ] || unavailable "needs root to install and start slurm (running as $(id -un))"

# one setup at a time (test runs of several checkouts may start together). The daemons started below must not
# inherit the lock's descriptor (9>&- on each), or they would hold the lock for as long as they run.
mkdir -p /run/lock
exec 9>/run/lock/nbm-slurm-setup.lock
flock -w 600 9 || failed "another slurm-setup.sh holds /run/lock/nbm-slurm-setup.lock"

# --- packages --------------------------------------------------------------------------------------------------
have_all() { command -v sbatch >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; }
if ! have_all; then
  command -v apt-get >/dev/null || unavailable "slurm-wlm is not installed and there is no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends slurm-wlm munge >/tmp/slurm-setup-apt.log 2>&1; }
  say "installing slurm-wlm and munge with apt (log: /tmp/slurm-setup-apt.log)"
  if ! apt_install; then
    apt-get update -q -o DPkg::Lock::Timeout=300 >>/tmp/slurm-setup-apt.log 2>&1
    apt_install || unavailable "apt-get install slurm-wlm munge failed: $(tail -n 1 /tmp/slurm-setup-apt.log)"
  fi
  have_all || unavailable "slurm-wlm installed but sbatch/slurmctld/slurmd/munged are missing"
fi

HOST=$(hostname -s)
NCPU=$(nproc)
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# written by nbm .ci/slurm-setup.sh"
GPU_DIR=/var/lib/nbm-slurm-ci

# --- munge -----------------------------------------------------------------------------------------------------
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_ok; then
  id munge >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin munge
  mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 || true; fi
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  chmod 0400 /etc/munge/munge.key
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged >/dev/null 2>&1 9>&- || /usr/sbin/munged --force >/dev/null 2>&1 9>&- || true
  for _ in $(seq 1 50); do munge_ok && break; sleep 0.1; done
  munge_ok || failed "munged does not start (see /var/log/munge/munged.log)"
fi

# --- slurm.conf ------------------------------------------------------------------------------------------------
# The node line comes from `slurmd -C` (this host's real sockets/cores/threads), plus one stand-in GPU per CPU.
ours=0
if [ ! -f "$CONF" ] || grep -qF "$MARK" "$CONF"; then
  ours=1
  mkdir -p "$CONF_DIR" "$GPU_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
  # stand-in GPU device files: slurm hands them out and sets CUDA_VISIBLE_DEVICES as for real GPUs
  for i in $(seq 0 $((NCPU - 1))); do
    [ -e "$GPU_DIR/gpu$i" ] || mknod "$GPU_DIR/gpu$i" c 1 3 2>/dev/null || : >"$GPU_DIR/gpu$i"
  done
  node=$(slurmd -C 2>/dev/null | head -n 1 | sed -E 's/ *UpTime=.*//; s/ RealMemory=[0-9]+//')
  [ -n "$node" ] || node="NodeName=$HOST CPUs=$NCPU"
  new=$(mktemp)
  cat >"$new" <<CONF
$MARK (one-node test cluster; CPUs stand in for GPUs)
ClusterName=nbmci
SlurmctldHost=$HOST
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu
KillWait=5
MinJobAge=300
InactiveLimit=0
SchedulerParameters=defer_batch=0
$node Gres=gpu:$NCPU State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
  gres=$(mktemp)
  echo "$MARK
NodeName=$HOST Name=gpu File=$GPU_DIR/gpu[0-$((NCPU - 1))]" >"$gres"
  if ! cmp -s "$new" "$CONF" || ! cmp -s "$gres" "$CONF_DIR/gres.conf"; then
    changed=1
    install -m 0644 "$new" "$CONF"
    install -m 0644 "$gres" "$CONF_DIR/gres.conf"
  fi
  rm -f "$new" "$gres"
else
  say "using the existing $CONF (not written by this script)"
fi

# --- daemons ---------------------------------------------------------------------------------------------------
# a daemon runs when the pid in its pid file is alive and is that daemon
running() {
  local pid
  pid=$(cat "/run/slurm/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}
stop() {
  running "$1" || return 0
  local pid
  pid=$(cat "/run/slurm/$1.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
}
if [ "${changed:-0}" = 1 ]; then
  # a new configuration: restart whatever runs with the old one
  for d in slurmd slurmctld; do
    stop "$d"
  done
fi
if [ "$ours" = 1 ]; then
  running slurmctld || slurmctld 9>&- || failed "slurmctld does not start"
  running slurmd || slurmd 9>&- || failed "slurmd does not start"
fi

# --- wait until the node takes jobs ----------------------------------------------------------------------------
state=""
for i in $(seq 1 150); do
  state=$(sinfo -h -n "$HOST" -o '%T' 2>/dev/null | head -n 1)
  case "$state" in
    idle*|mixed*|allocated*|completing*) break ;;
    down*|drain*|fail*) [ $((i % 10)) -eq 1 ] && scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 ;;
  esac
  sleep 0.2
done
case "$state" in
  idle*|mixed*|allocated*|completing*) say "ready (node $HOST: $NCPU CPUs, gres gpu:$NCPU, state $state; slurm $(sinfo -V | awk '{print $2}'))" ;;
  *) failed "node $HOST is '${state:-unknown}' ($(sinfo -h -N -o '%E' 2>/dev/null | head -n 1))" ;;
esac
