#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to try (and test) the workflow's cluster path:
# the host is both controller and compute node. Needs root and Debian/Ubuntu packages.
#
#   sudo tools/slurm_cluster.sh          start it (installs slurm-wlm and munge if absent)
#   sudo tools/slurm_cluster.sh stop     stop the daemons this script started
#   tools/slurm_cluster.sh status        print the node state, exit 0 when it is idle
#
# The node is sized from `slurmd -C` (CPUs, RealMemory). No accounting (no slurmdbd, so no
# sacct); process tracking without cgroups (proctrack/linuxproc, task/none), which also works
# in containers. It writes /etc/slurm/slurm.conf and refuses to replace one it did not write.
# Logs: /var/log/slurm/slurmctld.log and slurmd.log.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by killcurve tools/slurm_cluster.sh"
STATE=/var/lib/slurm
LOGS=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
WAIT_S=${SLURM_CLUSTER_WAIT_S:-60}

die() {
  echo "slurm_cluster.sh: $*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || die "needs root (it installs packages, writes $CONF and starts daemons); run it with sudo"
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null || die "slurm-wlm and munge are not installed and there is no apt-get; install them by hand"
  echo "installing slurm-wlm and munge ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null \
    || die "apt-get install slurm-wlm munge failed"
}

# Wait up to WAIT_S seconds for the command "$@" to succeed.
wait_for() {
  local what=$1
  shift
  for _ in $(seq "$WAIT_S"); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "$what did not come up within ${WAIT_S}s; see $LOGS/"
}

# True when the pid file $1 names a running process (the daemon removes it when it exits).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_munge() {
  if alive "$MUNGE_PID"; then
    return
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID"
  wait_for "munged" sh -c 'munge -n | unmunge'
}

write_conf() {
  if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away to use the test cluster"
  fi
  local host node
  host=$(hostname -s)
  # slurmd -C prints this machine's node line: NodeName=<host> CPUs=... RealMemory=...
  node=$(slurmd -C | head -n 1)
  case $node in
    NodeName=*) ;;
    *) die "slurmd -C printed no node line: $node" ;;
  esac
  install -d -o slurm -g slurm "$STATE/slurmctld" "$STATE/slurmd" "$LOGS"
  cat >"$CONF" <<EOF
$MARK
ClusterName=killcurve-test
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() {
  sinfo -h -N -o '%T' | grep -qx 'idle'
}

start() {
  need_root
  install_packages
  start_munge
  write_conf
  if ! alive "$CTLD_PID"; then
    slurmctld
  fi
  # slurmd started before the controller answers backs off for minutes: wait for the ping.
  wait_for "slurmctld" sh -c 'scontrol ping | grep -q "is UP"'
  if ! alive "$SLURMD_PID"; then
    slurmd
  fi
  for _ in $(seq "$WAIT_S"); do
    if node_idle; then
      sinfo
      return 0
    fi
    # A node left down or drained by an earlier run comes back with resume.
    if sinfo -h -N -o '%T' | grep -qE 'down|drain'; then
      scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 1
  done
  sinfo -N -l >&2 || true
  die "the node did not become idle within ${WAIT_S}s; see $LOGS/slurmd.log"
}

stop() {
  need_root
  local f
  for f in "$SLURMD_PID" "$CTLD_PID" "$MUNGE_PID"; do
    if alive "$f"; then
      kill "$(cat "$f")" 2>/dev/null || true
      for _ in $(seq 20); do
        alive "$f" || break
        sleep 0.5
      done
    fi
  done
  echo "stopped"
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  status) sinfo -N -l && node_idle ;;
  *) die "usage: $0 [start|stop|status]" ;;
esac
