#!/usr/bin/env bash
# A partition across network namespaces (docs/network.md, "A WAN on one
# machine"): the hub in namespace HUB, an agent's center in namespace EDGE,
# joined by a veth pair and nothing else; the agent reaches the hub over TLS
# at its namespace address. A long job runs at the agent's center; the link
# is cut; the agent must stop the run (fencing) before the hub runs the job
# at its own local center; the link comes back and the agent's epoch has
# grown. Checks that the job's attempts never overlap (its own marks).
#
# Usage: sudo bash scripts/wan/partition.sh [BUILD_DIR] [link|nft]
#   BUILD_DIR  where the suanli binary is (default: build)
#   link       the cut: the veth taken down (the default)
#   nft        the cut: nftables rules in the agent's namespace drop every
#              packet to and from the hub (open connections hang)
# Needs root, iproute2, openssl (and nftables for `nft`). Touches nothing
# outside its namespaces and a temporary directory; removes both on exit.
# Exit 0: every check held; 77: not root (skipped); 1: a check failed.
# Part of the test suite (CTest: wan_partition_link, wan_partition_nft).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
mode=${2:-link}
bin=$(realpath "$build/suanli")
[[ $mode == link || $mode == nft ]] || { echo "partition.sh: the cut is link or nft, not '$mode'" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "partition.sh: needs root (network namespaces): skipped" >&2; exit 77; }
command -v ip >/dev/null || { echo "partition.sh: needs iproute2 (scripts/install-deps.sh)" >&2; exit 2; }
[[ $mode == link ]] || command -v nft >/dev/null || { echo "partition.sh: needs nftables (scripts/install-deps.sh)" >&2; exit 2; }

tag=sl$$
hub_ns=${tag}h edge_ns=${tag}e
hub_ip=10.250.$(($$ % 250)).1 edge_ip=10.250.$(($$ % 250)).2
dir=$(mktemp -d /tmp/suanli-wan.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$hub_ns" 2>/dev/null || true
  ip netns del "$edge_ns" 2>/dev/null || true
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "partition.sh: FAILED: $*" >&2; echo "--- hub log:" >&2; tail -30 "$dir/hub.log" >&2; echo "--- agent log:" >&2; tail -30 "$dir/agent.log" >&2; exit 1; }

# The two namespaces and the link between them.
ip netns add "$hub_ns"
ip netns add "$edge_ns"
ip link add "${tag}a" type veth peer name "${tag}b"
ip link set "${tag}a" netns "$hub_ns"
ip link set "${tag}b" netns "$edge_ns"
ip -n "$hub_ns" addr add "$hub_ip/24" dev "${tag}a"
ip -n "$edge_ns" addr add "$edge_ip/24" dev "${tag}b"
for ns in "$hub_ns" "$edge_ns"; do ip -n "$ns" link set lo up; done
ip -n "$hub_ns" link set "${tag}a" up
ip -n "$edge_ns" link set "${tag}b" up

# The hub: TLS on its namespace address; `edge` run by an agent, `home` local.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$hub_ip" -addext "subjectAltName=IP:$hub_ip" \
  -keyout "$dir/hub.key" -out "$dir/hub.crt" 2>/dev/null
mkdir -p "$dir/shared" && chmod 1777 "$dir/shared"
cat > "$dir/net.yaml" <<EOF
name: wan
centers:
  - {name: edge, region: east, pue: 1.2, price_per_kwh: 0.5, carbon_g_per_kwh: 500,
     pools: [{name: p, nodes: [{names: [edge0], cpu: 4, memory_gib: 8}]}]}
EOF
cat > "$dir/hub.yaml" <<EOF
listen: $hub_ip:8443
data: $dir/hub
network: $dir/net.yaml
tls_cert: $dir/hub.crt
tls_key: $dir/hub.key
center_timeout_s: 6
agent_poll_ms: 200
pass_interval_ms: 200
centers:
  - {name: edge, backend: agent}
  - {name: home, backend: local, slots: 2, sandbox: off, cgroups: off, grace_s: 1}
EOF
token=wan-admin-token-0123456789
SUANLI_ADMIN_TOKEN=$token ip netns exec "$hub_ns" "$bin" serve --config "$dir/hub.yaml" >"$dir/hub.log" 2>&1 &
pids+=($!)
disown
conn=(--url "https://$hub_ip:8443" --ca-cert "$dir/hub.crt" --token "$token")
cli() { ip netns exec "$hub_ns" "$bin" "$@" "${conn[@]}"; }
for _ in $(seq 100); do cli centers >/dev/null 2>&1 && break; sleep 0.1; done
cli centers --json add edge | sed -n 's/.*"credential": *"\([0-9a-f]*\)".*/\1/p' >"$dir/edge.cred"
chmod 600 "$dir/edge.cred"
[[ -s $dir/edge.cred ]] || fail "no credential issued"

# The agent, in its own namespace: it can reach the hub only over the veth.
ip netns exec "$edge_ns" "$bin" agent --hub "https://$hub_ip:8443" --ca-cert "$dir/hub.crt" --center edge \
  --credential-file "$dir/edge.cred" --data "$dir/agent" --hub-timeout-s 20 --backend local --node-name edge0 --slots 4 \
  --sandbox off --cgroups off --grace-s 1 >"$dir/agent.log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do cli centers --json | grep -q '"connected": true' && break; sleep 0.1; done
cli centers --json | grep -q '"connected": true' || fail "the agent did not connect"

# A job at the agent's center, then the link goes down.
marks=$dir/shared/marks
cli centers drain home >/dev/null
ip netns exec "$hub_ns" "$bin" submit "${conn[@]}" --name wan -- sh -c "echo \"start \$SUANLI_ATTEMPT \$(date +%s.%N)\" >> $marks; \
  trap 'echo \"end \$SUANLI_ATTEMPT \$(date +%s.%N)\" >> $marks; exit 143' TERM; sleep 12 & wait; \
  echo \"end \$SUANLI_ATTEMPT \$(date +%s.%N)\" >> $marks" >/dev/null
for _ in $(seq 100); do [[ -s $marks ]] && break; sleep 0.1; done
[[ -s $marks ]] || fail "the job did not start at the agent's center"
cli centers resume home >/dev/null
cut_link() {
  if [[ $mode == link ]]; then
    ip -n "$edge_ns" link set "${tag}b" down
  else
    ip netns exec "$edge_ns" nft -f - <<EOF
table inet suanli_wan {
  chain in { type filter hook input priority 0; ip saddr $hub_ip drop; }
  chain out { type filter hook output priority 0; ip daddr $hub_ip drop; }
}
EOF
  fi
}
heal_link() {
  if [[ $mode == link ]]; then
    ip -n "$edge_ns" link set "${tag}b" up
  else
    ip netns exec "$edge_ns" nft delete table inet suanli_wan
  fi
}
cut_link
echo "partition.sh: link cut ($mode) at $(date +%T)"
for _ in $(seq 600); do
  state=$(cli show 1 --json | grep -o '"state": "[a-z]*"' | head -1 | cut -d'"' -f4)
  [[ $state == succeeded || $state == failed ]] && break
  sleep 0.1
done
[[ $state == succeeded ]] || fail "the job ended $state"
grep -q 'stopping its 1 run' "$dir/agent.log" || fail "the agent did not stop its run"
heal_link
echo "partition.sh: link healed at $(date +%T)"
for _ in $(seq 300); do cli centers --json | grep -q '"epoch": 2' && break; sleep 0.1; done
cli centers --json | grep -q '"epoch": 2' || fail "the agent's epoch did not grow after the partition"

# The attempts, from the job's own marks: each began after the one before ended.
awk '$1 == "start" { if ($3 <= last) bad = 1 } $1 == "end" { last = $3 } END { exit bad }' "$marks" ||
  fail "two attempts overlapped: $(cat "$marks")"
[[ $(grep -c '^start' "$marks") == 2 ]] || fail "expected 2 attempts: $(cat "$marks")"
cli show 1 | sed -n 's/^attempt/  attempt/p'
echo "partition.sh: ok ($mode: attempts never overlapped; the agent fenced its run; epoch 2)"
