#!/usr/bin/env bash
# Installs everything Suanli needs to build and test on Debian 12. Idempotent:
# packages already present are skipped, so a second run is quick.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  ccache                                  # rebuilds of unchanged files are cache hits
  g++ clang libclang-rt-14-dev            # clang for the libFuzzer targets and sanitizers
  clang-format                            # the code style (.clang-format), checked by scripts/test.sh
  clang-tidy                              # static checks (.clang-tidy), run by scripts/test.sh
  zlib1g-dev                              # gzip-compressed traces
  libyaml-cpp-dev                         # network description files
  nlohmann-json3-dev                      # JSON traces and summary.json
  libcli11-dev                            # command-line parsing
  libfmt-dev libspdlog-dev                # formatting and logging
  libgtest-dev libgmock-dev               # unit tests (through CTest)
  libbenchmark-dev                        # micro benchmarks
  libglpk-dev                             # linear programs (heterogeneity-aware dispatch)
  slurm-wlm slurm-client munge            # a real local Slurm for sweeps and the slurm backend
  libsqlite3-dev sqlite3                  # the control plane's durable store
  libcpp-httplib-dev libssl-dev           # the HTTP API client (and TLS)
  libboost-dev                            # Boost.Beast/Asio: the HTTP API server
  chromium                                # the dashboard's end-to-end tests (driven by Playwright)
  procps psmisc                           # ps / pkill / fuser used by the crash and backend tests
  iproute2 nftables openssl               # network namespaces and drop rules (scripts/wan/), test certificates
  bubblewrap                              # the local backend's job sandbox (docs/security.md)
  prometheus                              # promtool: the test suite lints /metrics with it
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm build the web dashboard; a machine that already has them
# (from any source) keeps its own, otherwise Debian's are installed.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Only promtool of the prometheus package is used (to lint /metrics): the
# Prometheus server the package starts is stopped and kept from starting.
if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  else
    $SUDO service prometheus stop >/dev/null 2>&1 || true
    $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi
