#!/usr/bin/env bash
# Shows a cluster started by scripts/slurm/start.sh: its recorded processes,
# whether slurmctld answers, and sinfo. Exit 0 when every recorded process is
# alive and slurmctld answers, 1 otherwise.
#
#   scripts/slurm/status.sh [DIR]    (default: $SUANLI_SLURM_DIR)
set -uo pipefail

dir=${1:-${SUANLI_SLURM_DIR:-}}
[[ -n $dir ]] || { echo "slurm/status: no state directory: pass DIR or set SUANLI_SLURM_DIR" >&2; exit 2; }
[[ -d $dir ]] || { echo "slurm/status: $dir does not exist" >&2; exit 1; }
dir=$(cd "$dir" && pwd -P)
if [[ ! -s $dir/run/pids ]]; then
  echo "slurm/status: nothing running in $dir"
  exit 1
fi
[[ -f $dir/cluster.info ]] && sed 's/^/  /' "$dir/cluster.info"
ok=0
while read -r what pid; do
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/"; then
    printf '  %-12s pid %-8s running\n' "$what" "$pid"
  else
    printf '  %-12s pid %-8s NOT RUNNING\n' "$what" "$pid"
    ok=1
  fi
done <"$dir/run/pids"
export SLURM_CONF=$dir/etc/slurm.conf
if timeout 3 scontrol ping 2>&1 | sed 's/^/  /'; then
  timeout 10 sinfo -N -o '%N %t %c %m %G' 2>&1 | sed 's/^/  /'
else
  ok=1
fi
exit $ok
