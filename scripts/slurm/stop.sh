#!/usr/bin/env bash
# Stops a cluster started by scripts/slurm/start.sh: cancels its jobs, then
# ends exactly the processes start.sh recorded in DIR/run/pids (each checked
# to still be ours: its command line names DIR). Idempotent: stopping a
# stopped cluster, or a directory with nothing running, succeeds.
#
#   scripts/slurm/stop.sh [DIR]      (default: $SUANLI_SLURM_DIR)
set -uo pipefail

dir=${1:-${SUANLI_SLURM_DIR:-}}
[[ -n $dir ]] || { echo "slurm/stop: no state directory: pass DIR or set SUANLI_SLURM_DIR" >&2; exit 2; }
if [[ ! -d $dir ]]; then
  echo "slurm/stop: $dir does not exist; nothing to stop" >&2
  exit 0
fi
dir=$(cd "$dir" && pwd -P)
pids_file=$dir/run/pids
if [[ ! -s $pids_file ]]; then
  echo "slurm/stop: nothing recorded in $dir; nothing to stop" >&2
  exit 0
fi

ours() {  # pid -> 0 if alive and its command line names the state directory
  [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$dir/"
}

mapfile -t entries <"$pids_file"
live=()
for e in "${entries[@]}"; do
  read -r what pid <<<"$e"
  [[ -n ${pid:-} ]] && ours "$pid" && live+=("$what:$pid")
done

# Cancel the cluster's jobs first, so that no job step outlives its slurmd.
ctld_up=0
for e in "${live[@]}"; do [[ ${e%%:*} == slurmctld ]] && ctld_up=1; done
if ((ctld_up)) && [[ -f $dir/etc/slurm.conf ]]; then
  export SLURM_CONF=$dir/etc/slurm.conf
  if timeout 3 scontrol ping >/dev/null 2>&1; then
    jobs=$(timeout 10 squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
    if [[ -n ${jobs// /} ]]; then
      # shellcheck disable=SC2086
      timeout 10 scancel $jobs >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do
        [[ -z $(timeout 5 squeue -h -o '%A' 2>/dev/null) ]] && break
        sleep 0.2
      done
    fi
  fi
fi

# slurmd first, then slurmctld, then munged: SIGTERM, then SIGKILL after 10 s.
order=()
for kind in slurmd slurmctld munged; do
  for e in "${live[@]}"; do
    w=${e%%:*}
    [[ $w == "$kind" || $w == "$kind"-* ]] && order+=("$e")
  done
done
for e in "${order[@]}"; do kill -TERM "${e##*:}" 2>/dev/null; done
for _ in $(seq 1 100); do
  left=0
  for e in "${order[@]}"; do ours "${e##*:}" && left=1; done
  ((left)) || break
  sleep 0.1
done
for e in "${order[@]}"; do
  pid=${e##*:}
  if ours "$pid"; then
    echo "slurm/stop: ${e%%:*} (pid $pid) did not stop on SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
done

: >"$pids_file"
echo "slurm/stop: stopped ${#order[@]} process(es) in $dir" >&2
exit 0
