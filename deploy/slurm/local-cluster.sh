#!/usr/bin/env bash
# A Slurm cluster on this one machine, for the slurm backend's integration
# tests and demos: one slurmctld and N emulated compute nodes n1..nN, each
# a slurmd of its own (slurmd -N nK) on port 1700K, all at 127.0.0.1.
#
#   deploy/slurm/local-cluster.sh up [N]   # default N=3; harmless when up
#   deploy/slurm/local-cluster.sh status
#   deploy/slurm/local-cluster.sh down
#
# Runs as root: it may apt-get install slurm-wlm and munge, start munged,
# and links /etc/slurm/slurm.conf (Debian's default path) to the config it
# writes, so sbatch, squeue and scontrol run by a plain `go test` find the
# cluster without SLURM_CONF. It refuses to replace an /etc/slurm/slurm.conf
# it did not write. Everything else lives in the state dir
# (INFERSWEEP_SLURM_DIR, default /tmp/infersweep-slurm): config, pid files,
# logs, spool. `down` cancels the cluster's jobs, stops exactly the
# daemons `up` started (their pid files) and munged only when `up` started
# it, and removes the /etc/slurm link.
#
# Engine jobs ask for a node each (--exclusive), as on a GPU cluster: N
# engines run at once and more queue; `up 8` for more. `up` takes well
# under a second on a 2-core VM once the packages are there.
set -euo pipefail

DIR=${INFERSWEEP_SLURM_DIR:-/tmp/infersweep-slurm}
CONF=$DIR/slurm.conf
ETC_CONF=/etc/slurm/slurm.conf
CLUSTER=infersweep-local
BASE_PORT=17000

log() { echo "local-cluster: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# alive PIDFILE NAME: the pid file names a live process called NAME (a pid
# reused by something else after a crash must not be killed).
alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == "$2" ]]
}

ensure_packages() {
	local missing=()
	command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null || missing+=(slurm-wlm)
	command -v munged >/dev/null || missing+=(munge)
	((${#missing[@]} == 0)) && return
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_munge() {
	if [[ ! -s /etc/munge/munge.key ]]; then
		log "creating /etc/munge/munge.key"
		mungekey --create --keyfile /etc/munge/munge.key
		chown munge:munge /etc/munge/munge.key
		chmod 0400 /etc/munge/munge.key
	fi
	if alive /run/munge/munged.pid munged; then
		return # ours from an earlier up (marker kept) or the machine's own
	fi
	install -d -o munge -g munge -m 0755 /run/munge
	install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
	runuser -u munge -- munged
	cp /run/munge/munged.pid "$DIR/munged.ours"
	log "started munged"
}

# write_conf N: the config for N nodes; prints nothing.
write_conf() {
	local n=$1 host cpus mem_mb
	host=$(hostname -s)
	cpus=$(nproc)
	# Every slurmd reports the whole host, so configured memory must not
	# exceed it; a share each keeps the sum honest.
	mem_mb=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 / n))
	cat >"$CONF.new" <<EOF
# Written by deploy/slurm/local-cluster.sh; rewritten on every up.
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdSpoolDir=$DIR/%n/spool
SlurmdPidFile=$DIR/%n/slurmd.pid
SlurmdLogFile=$DIR/%n/slurmd.log
# No cgroups here (containers, gVisor): track and launch tasks plainly.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Each emulated node claims all of the host's CPUs; trust the config over
# what each slurmd detects on the shared host.
SlurmdParameters=config_overrides
# Finished jobs stay visible to scontrol for MinJobAge: long enough for a
# poller to see how a job ended, short enough not to pile up.
MinJobAge=30
# A killed slurmd is noticed within SlurmdTimeout; a node that comes back
# returns to service by itself.
SlurmdTimeout=15
ReturnToService=1
InactiveLimit=0
KillWait=5
NodeName=n[1-$n] NodeHostname=$host NodeAddr=127.0.0.1 Port=$((BASE_PORT + 1))-$((BASE_PORT + n)) CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=n[1-$n] Default=YES MaxTime=INFINITE State=UP
EOF
}

link_conf() {
	if [[ -e $ETC_CONF || -L $ETC_CONF ]] && ! grep -q "^ClusterName=$CLUSTER\$" "$ETC_CONF" 2>/dev/null; then
		die "$ETC_CONF exists and is not this script's; move it away first"
	fi
	mkdir -p "$(dirname "$ETC_CONF")"
	ln -sfn "$CONF" "$ETC_CONF"
}

nodes_in_conf() {
	sed -n 's/^NodeName=n\[1-\([0-9]*\)\].*/\1/p' "$CONF" 2>/dev/null || true
}

start_daemons() {
	local n=$1 k
	alive "$DIR/slurmctld.pid" slurmctld || slurmctld -c -f "$CONF"
	for ((k = 1; k <= n; k++)); do
		alive "$DIR/n$k/slurmd.pid" slurmd || slurmd -f "$CONF" -N "n$k"
	done
}

# wait_idle N: every node answers and none is down; 60 s at most.
wait_idle() {
	local n=$1 deadline=$((SECONDS + 60)) ready
	while ((SECONDS < deadline)); do
		ready=$(sinfo -h -N -p local -o '%N %t' 2>/dev/null | grep -cE ' (idle|mix|alloc)$' || true)
		((ready == n)) && return
		sleep 0.2
	done
	sinfo -N >&2 || true
	die "nodes not idle after 60 s; logs in $DIR"
}

up() {
	local n=${1:-3}
	[[ $n =~ ^[1-9][0-9]?$ ]] || die "node count $n: want 1..99"
	((EUID == 0)) || die "run as root"
	mkdir -p "$DIR/ctld"
	ensure_packages
	ensure_munge
	write_conf "$n"
	if [[ -f $CONF ]] && ! cmp -s "$CONF" "$CONF.new"; then
		log "config changed; restarting the cluster"
		stop_slurm
	fi
	mv "$CONF.new" "$CONF"
	link_conf
	for ((k = 1; k <= n; k++)); do mkdir -p "$DIR/n$k/spool"; done
	start_daemons "$n"
	wait_idle "$n"
	sinfo
}

# stop NAME PIDFILE...: TERM every live daemon NAME of the pid files at
# once (each takes a second or two to go), wait for them, KILL stragglers.
stop() {
	local name=$1 pidfile pids=()
	shift
	for pidfile; do
		alive "$pidfile" "$name" && pids+=("$(<"$pidfile")")
		rm -f "$pidfile"
	done
	((${#pids[@]} > 0)) || return 0
	kill "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 100); do
		running "${pids[@]}" || return 0
		sleep 0.1
	done
	kill -9 "${pids[@]}" 2>/dev/null || true
}

# running PID...: any of them is still alive.
running() {
	local pid
	for pid; do
		kill -0 "$pid" 2>/dev/null && return 0
	done
	return 1
}

stop_slurm() {
	local jobs
	# Cancel jobs first so their steps (engines) end with them rather than
	# outliving their slurmd.
	if alive "$DIR/slurmctld.pid" slurmctld; then
		jobs=$(squeue -h -o %i 2>/dev/null || true)
		if [[ -n $jobs ]]; then
			# shellcheck disable=SC2086 # one job id per word
			scancel $jobs || true
			for _ in $(seq 50); do
				[[ -z $(squeue -h -o %i 2>/dev/null) ]] && break
				sleep 0.2
			done
		fi
	fi
	stop slurmd "$DIR"/n*/slurmd.pid
	stop slurmctld "$DIR/slurmctld.pid"
}

down() {
	stop_slurm
	if [[ -f $DIR/munged.ours ]]; then
		stop munged "$DIR/munged.ours"
		log "stopped munged"
	fi
	if [[ -L $ETC_CONF && $(readlink "$ETC_CONF") == "$CONF" ]]; then
		rm -f "$ETC_CONF"
	fi
}

status() {
	local n k state=0
	n=$(nodes_in_conf)
	[[ -n $n ]] || {
		echo "down (no config in $DIR)"
		return 1
	}
	alive "$DIR/slurmctld.pid" slurmctld && echo "slurmctld running" || {
		echo "slurmctld not running"
		state=1
	}
	for ((k = 1; k <= n; k++)); do
		alive "$DIR/n$k/slurmd.pid" slurmd && echo "slurmd n$k running" || {
			echo "slurmd n$k not running"
			state=1
		}
	done
	((state == 0)) && sinfo
	return $state
}

case ${1:-} in
up) up "${2:-3}" ;;
down) down ;;
status) status ;;
*) die "usage: $0 up [N] | down | status" ;;
esac
