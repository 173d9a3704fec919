#!/usr/bin/env bash
# Installs the system packages SDEKit builds against (GSL, OpenBLAS and pkg-config) and Open MPI
# (for sdekit-mpi and its tests) when missing, and on x86-64 the AArch64 C library headers, with
# which the tests check that the C kernels compile for arm64.
# Called by `make test`, `make build` and `make demo`; safe to run again.
set -euo pipefail

missing=()
dpkg -s libgsl-dev >/dev/null 2>&1 || missing+=(libgsl-dev)
dpkg -s libopenblas-dev >/dev/null 2>&1 || missing+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libopenmpi-dev >/dev/null 2>&1 || missing+=(libopenmpi-dev)
dpkg -s openmpi-bin >/dev/null 2>&1 || missing+=(openmpi-bin)
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || missing+=(libc6-dev-arm64-cross)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]} with apt-get" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
