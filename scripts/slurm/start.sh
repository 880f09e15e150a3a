#!/usr/bin/env bash
# Starts a real Slurm cluster on this host (Debian 12's slurm-wlm 22.05 and
# munge), without systemd, entirely under one state directory: its own munge
# key and munged, slurm.conf, one slurmctld and several slurmd processes that
# stand for several nodes with fake CPUs and fake typed GPUs. See
# docs/slurm-local.md.
#
#   scripts/slurm/start.sh [DIR] [options]
#
#   DIR              state directory (default: $SUANLI_SLURM_DIR, else a new
#                    unique directory under /tmp). Never /etc.
#   --name NAME      cluster name (default suanli; $SUANLI_SLURM_CLUSTER)
#   --nodes K        number of nodes n1..nK (default 2; $SUANLI_SLURM_NODES)
#   --cpus N         CPUs per node (default 16)
#   --gpus N         GPUs per node (default 4; 0 for none)
#   --gpu-type T     GPU type in the GRES name gpu:T:N (default a100)
#   --shards S       GRES shards per GPU, for jobs that ask for a share of
#                    one (default 0: none; 4 lets a job ask for 0.25)
#   --mem MIB        RealMemory per node in MiB (default 64000)
#   --mem-per-cpu M  DefMemPerCPU in MiB (default 1000)
#   --port P         slurmctld port; node i listens on P+i (default: the first
#                    free block from 7100 up; $SUANLI_SLURM_PORT)
#   --partition P    partition name (default debug)
#   --timeout S      seconds to wait for idle nodes (default 60)
#
# On success it prints the directory and writes DIR/env, to be sourced:
#   . DIR/env     # sets SLURM_CONF and SUANLI_SLURM_DIR
# Stop with scripts/slurm/stop.sh DIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "slurm/start: $*" >&2; exit 1; }

dir=${SUANLI_SLURM_DIR:-}
name=${SUANLI_SLURM_CLUSTER:-suanli}
nodes=${SUANLI_SLURM_NODES:-2}
cpus=16
gpus=4
gpu_type=a100
shards=0
mem=64000
mem_per_cpu=1000
port=${SUANLI_SLURM_PORT:-}
partition=debug
timeout_s=60

while (($#)); do
  case $1 in
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
    --cpus) cpus=${2:?--cpus needs a value}; shift 2 ;;
    --gpus) gpus=${2:?--gpus needs a value}; shift 2 ;;
    --gpu-type) gpu_type=${2:?--gpu-type needs a value}; shift 2 ;;
    --shards) shards=${2:?--shards needs a value}; shift 2 ;;
    --mem) mem=${2:?--mem needs a value}; shift 2 ;;
    --mem-per-cpu) mem_per_cpu=${2:?--mem-per-cpu needs a value}; shift 2 ;;
    --port) port=${2:?--port needs a value}; shift 2 ;;
    --partition) partition=${2:?--partition needs a value}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs a value}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [[ -z ${dir_arg:-} ]] || die "more than one directory given ('$dir_arg', '$1')"; dir_arg=$1; shift ;;
  esac
done
dir=${dir_arg:-$dir}

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$nodes" && ((nodes >= 1 && nodes <= 64)) || die "--nodes must be 1..64, got '$nodes'"
isnum "$cpus" && ((cpus >= 1)) || die "--cpus must be a positive integer, got '$cpus'"
isnum "$gpus" || die "--gpus must be a non-negative integer, got '$gpus'"
isnum "$shards" && ((shards <= 1000)) || die "--shards must be 0..1000, got '$shards'"
((shards == 0 || gpus > 0)) || die "--shards needs GPUs to share (--gpus > 0)"
isnum "$mem" && ((mem >= 1)) || die "--mem must be a positive integer (MiB), got '$mem'"
isnum "$mem_per_cpu" && ((mem_per_cpu >= 1)) || die "--mem-per-cpu must be a positive integer (MiB), got '$mem_per_cpu'"
isnum "$timeout_s" && ((timeout_s >= 1)) || die "--timeout must be a positive integer (seconds), got '$timeout_s'"
[[ $name =~ ^[a-z][a-z0-9_-]{0,39}$ ]] || die "--name must be lowercase letters, digits, '-' or '_' (starting with a letter), got '$name'"
[[ $gpu_type =~ ^[A-Za-z0-9_-]+$ ]] || die "--gpu-type must be letters, digits, '-' or '_', got '$gpu_type'"
[[ $partition =~ ^[A-Za-z0-9_-]+$ ]] || die "--partition must be letters, digits, '-' or '_', got '$partition'"
[[ -z $port ]] || { isnum "$port" && ((port >= 1024 && port + nodes <= 65535)); } ||
  die "--port must be 1024..$((65535 - nodes)), got '$port'"

# The real binaries, not mocks.
missing=()
for b in munged munge unmunge slurmctld slurmd sinfo scontrol sbatch squeue setsid timeout; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
((${#missing[@]} == 0)) ||
  die "missing ${missing[*]}: install Slurm and munge with scripts/install-deps.sh (packages slurm-wlm slurm-client munge)"

if [[ -z $dir ]]; then
  dir=$(mktemp -d /tmp/suanli-slurm.XXXXXX)
fi
case $dir in /etc|/etc/*) die "refusing to use '$dir': the state directory must not be under /etc" ;; esac
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
case $dir in /etc|/etc/*) die "refusing to use '$dir': the state directory must not be under /etc" ;; esac

# A cluster that is already running here is not started twice.
if [[ -f $dir/run/pids ]]; then
  while read -r what pid; do
    if [[ -n ${pid:-} && -d /proc/$pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/"; then
      die "a cluster is already running in $dir ($what, pid $pid); stop it first: scripts/slurm/stop.sh $dir"
    fi
  done <"$dir/run/pids"
fi

sock=$dir/munge/munge.socket
((${#sock} < 100)) || die "state directory path too long for a unix socket ($sock); choose a shorter one"

me=$(id -un)
root=0
[[ $(id -u) -eq 0 ]] && root=1

# Fresh state every start: configuration, controller state, spool; logs are kept.
rm -rf "$dir/etc" "$dir/ctld" "$dir/nodes" "$dir/dev" "$dir/run" "$dir/munge"
mkdir -p "$dir/etc" "$dir/ctld" "$dir/nodes" "$dir/dev" "$dir/run" "$dir/log" "$dir/munge"
chmod 0755 "$dir" "$dir/etc" "$dir/log"
: >"$dir/run/pids"

# ---- ports: the first block of nodes+1 free TCP ports from 7100 up ----------
port_used() {  # port -> 0 if some socket uses it as local port
  local want hex
  printf -v want '%04X' "$1"
  grep -qE "^ *[0-9]+: [0-9A-F]+:$want " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
lock=/tmp/suanli-slurm-ports.lock
# Two starts at once must not pick the same ports: hold a lock until the
# daemons have bound theirs (the daemons themselves do not inherit it).
if command -v flock >/dev/null 2>&1 && { exec 9>>"$lock"; } 2>/dev/null; then
  flock -w 120 9 || true
fi
if [[ -z $port ]]; then
  for ((base = 7100; base + nodes <= 9000; base += 16)); do
    ok=1
    for ((p = base; p <= base + nodes; p++)); do
      if port_used "$p"; then ok=0; break; fi
    done
    ((ok)) && { port=$base; break; }
  done
  [[ -n $port ]] || die "no block of $((nodes + 1)) free TCP ports between 7100 and 9000; pass --port"
else
  for ((p = port; p <= port + nodes; p++)); do
    port_used "$p" && die "TCP port $p is in use; pass another --port"
  done
fi

# ---- munge: own key, own socket (directory 0711), munged -F in the background --
if ((root)); then
  getent passwd munge >/dev/null || die "user 'munge' does not exist: install munge with scripts/install-deps.sh"
  if ! setpriv --reuid=munge --regid=munge --init-groups test -x "$dir/munge" 2>/dev/null; then
    chown munge:munge "$dir/munge"; chmod 0711 "$dir/munge"
    setpriv --reuid=munge --regid=munge --init-groups test -x "$dir/munge" ||
      die "user munge cannot reach $dir (a parent directory is not searchable by others); use a state directory under /tmp"
  fi
fi
if command -v mungekey >/dev/null 2>&1; then
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
else
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 0600 "$dir/munge/munge.key"
chmod 0711 "$dir/munge"
munged_cmd=(munged -F --key-file="$dir/munge/munge.key" --socket="$sock" --pid-file="$dir/munge/munged.pid"
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed")
if ((root)); then
  chown -R munge:munge "$dir/munge"
  munged_cmd=(setpriv --reuid=munge --regid=munge --init-groups "${munged_cmd[@]}")
fi
record() { echo "$1 $2" >>"$dir/run/pids"; }
setsid "${munged_cmd[@]}" </dev/null >>"$dir/log/munged.out" 2>&1 9>&- &
record munged $!

tail_logs() {
  local f
  for f in "$dir/munge/munged.log" "$dir/log/munged.out" "$dir/log/slurmctld.log" "$dir/log/slurmctld.out" \
           "$dir"/log/slurmd-*.log "$dir"/log/slurmd-*.out; do
    [[ -s $f ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
}
fail() {
  echo "slurm/start: $*" >&2
  tail_logs
  bash "$here/stop.sh" "$dir" >/dev/null 2>&1 || true
  exit 1
}
deadline=$((SECONDS + timeout_s))
until munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "munged did not answer on $sock within ${timeout_s}s"
  kill -0 "$(awk '$1 == "munged" {print $2}' "$dir/run/pids")" 2>/dev/null || fail "munged exited"
  sleep 0.1
done

# ---- fake GPU devices: symlinks to /dev/null (so CUDA_VISIBLE_DEVICES gets set) ----
for ((i = 1; i <= nodes; i++)); do
  mkdir -p "$dir/dev/n$i"
  for ((g = 0; g < gpus; g++)); do ln -sf /dev/null "$dir/dev/n$i/nvidia$g"; done
done

# ---- slurm.conf and gres.conf --------------------------------------------------
conf=$dir/etc/slurm.conf
{
  echo "# Written by scripts/slurm/start.sh: a local test cluster under $dir"
  echo "ClusterName=$name"
  echo "SlurmctldHost=localhost"
  echo "SlurmctldPort=$port"
  echo "SlurmdPort=$((port + 1))"
  echo "SlurmUser=$me"
  echo "SlurmdUser=$me"
  echo "AuthType=auth/munge"
  echo "AuthInfo=socket=$sock"
  echo "CredType=cred/munge"
  echo "StateSaveLocation=$dir/ctld"
  echo "SlurmdSpoolDir=$dir/nodes/%n"
  echo "SlurmctldPidFile=$dir/run/slurmctld.pid"
  echo "SlurmdPidFile=$dir/run/slurmd-%n.pid"
  echo "SlurmctldLogFile=$dir/log/slurmctld.log"
  echo "SlurmdLogFile=$dir/log/slurmd-%n.log"
  echo "SlurmctldDebug=info"
  echo "SlurmdDebug=info"
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "JobAcctGatherType=jobacct_gather/none"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_Core_Memory"
  echo "SchedulerType=sched/backfill"
  echo "SchedulerParameters=batch_sched_delay=0"
  echo "SlurmdParameters=config_overrides"
  echo "ReturnToService=2"
  echo "MpiDefault=none"
  echo "AccountingStorageType=accounting_storage/none"
  echo "JobCompType=jobcomp/filetxt"
  echo "JobCompLoc=$dir/log/jobcomp.txt"
  echo "MinJobAge=300"
  echo "MaxArraySize=10001"
  echo "MaxJobCount=20000"
  echo "KillWait=5"
  echo "InactiveLimit=0"
  echo "SlurmctldTimeout=60"
  echo "SlurmdTimeout=60"
  echo "DefMemPerCPU=$mem_per_cpu"
  if ((shards > 0)); then echo "GresTypes=gpu,shard"; elif ((gpus > 0)); then echo "GresTypes=gpu"; fi
  for ((i = 1; i <= nodes; i++)); do
    gres=""
    ((gpus > 0)) && gres=" Gres=gpu:$gpu_type:$gpus"
    ((shards > 0)) && gres+=",shard:$((gpus * shards))"
    echo "NodeName=n$i NodeAddr=127.0.0.1 NodeHostname=$(hostname -s) Port=$((port + i)) CPUs=$cpus RealMemory=$mem$gres State=UNKNOWN"
  done
  echo "PartitionName=$partition Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$conf"
{
  echo "AutoDetect=off"
  if ((gpus > 0)); then
    for ((i = 1; i <= nodes; i++)); do
      echo "NodeName=n$i Name=gpu Type=$gpu_type File=$dir/dev/n$i/nvidia[0-$((gpus - 1))]"
      ((shards == 0)) || echo "NodeName=n$i Name=shard Count=$((gpus * shards)) File=$dir/dev/n$i/nvidia[0-$((gpus - 1))]"
    done
  fi
} >"$dir/etc/gres.conf"
{
  echo "export SLURM_CONF=$conf"
  echo "export SUANLI_SLURM_DIR=$dir"
} >"$dir/env"
{
  echo "name=$name"
  echo "nodes=$nodes"
  echo "port=$port"
  echo "partition=$partition"
  echo "conf=$conf"
} >"$dir/cluster.info"
chmod 0644 "$conf" "$dir/etc/gres.conf" "$dir/env" "$dir/cluster.info"
export SLURM_CONF=$conf

# ---- daemons, in the foreground (-D) of their own sessions, PIDs recorded ------
setsid slurmctld -D -f "$conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 9>&- &
record slurmctld $!
for ((i = 1; i <= nodes; i++)); do
  setsid slurmd -D -N "n$i" -f "$conf" </dev/null >>"$dir/log/slurmd-n$i.out" 2>&1 9>&- &
  record "slurmd-n$i" $!
done

# ---- wait until sinfo shows every node idle -------------------------------------
state=""
while :; do
  while read -r what pid; do
    kill -0 "$pid" 2>/dev/null || fail "$what (pid $pid) exited during start"
  done <"$dir/run/pids"
  state=$(timeout 5 sinfo -h -N -o '%N %t' 2>&1 || true)
  idle=$(grep -cE '^n[0-9]+ idle$' <<<"$state" || true)
  ((idle == nodes)) && break
  ((SECONDS < deadline)) || fail "nodes not idle after ${timeout_s}s; sinfo says: ${state:-nothing}"
  sleep 0.2
done

echo "slurm/start: cluster '$name' up in $dir: $nodes nodes x $cpus CPUs$( ((gpus > 0)) && echo " x gpu:$gpu_type:$gpus"), slurmctld port $port (${SECONDS}s)" >&2
echo "slurm/start: . $dir/env   # then sinfo, sbatch, ...; stop with scripts/slurm/stop.sh $dir" >&2
echo "$dir"
