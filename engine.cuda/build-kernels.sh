#!/usr/bin/env bash
# Compiles the shared kernels (../engine.kernels, in the order of kernels.list) as CUDA C++ into
# one fatbin carried by the bundle: SASS for sm_80 (A100, RTX 30xx) and sm_90 (H100/H200), and
# PTX for compute_90, which the driver compiles for any newer GPU. Run by the Maven build
# (process-resources) with the output folder as its argument; takes about 6 s.
#
# Without nvcc (NVCC, else nvcc on the PATH, else /usr/local/cuda*/bin) the build goes on: it says so and keeps the fatbin of an
# earlier build when that was compiled from the same sources, else the bundle carries none and the
# cuda backend reports itself unavailable with that reason. With nvcc a kernel that does not compile
# fails the build. CI=true (or SISMA_REQUIRE_NVCC=true) fails the build without nvcc as well.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../engine.kernels"
out=${1:?usage: build-kernels.sh OUTPUT_FOLDER}
fatbin="$out/sisma-kernels.fatbin"
stamp="$out/sisma-kernels.properties"
files=$(grep -v '^#' "$src/kernels.list" | grep -v '^$')
hash=$(cd "$src" && cat kernels.list $files | sha256sum | cut -d' ' -f1)
nvcc=${NVCC:-nvcc}
# A CUDA toolkit installed by NVIDIA's packages is often not on the PATH: look in its usual place.
if [[ -z "${NVCC:-}" ]] && ! command -v nvcc >/dev/null 2>&1; then
    for candidate in /usr/local/cuda/bin/nvcc $(ls -d /usr/local/cuda-*/bin/nvcc 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate" ]]; then nvcc=$candidate; break; fi
    done
fi

if ! command -v "$nvcc" >/dev/null 2>&1; then
    if [[ "${CI:-}" == true || "${SISMA_REQUIRE_NVCC:-}" == true ]]; then
        echo "[engine.cuda] ERROR: nvcc not found and CI=true: the CUDA kernels must be compiled (set NVCC or PATH)" >&2
        exit 1
    fi
    if [[ -f "$fatbin" && -f "$stamp" ]] && grep -q "^sources.sha256=$hash\$" "$stamp"; then
        echo "[engine.cuda] WARNING: nvcc not found: the bundle carries the fatbin of an earlier build (same kernel sources)" >&2
    else
        rm -f "$fatbin" "$stamp"
        echo "[engine.cuda] WARNING: nvcc not found (set NVCC or put it on the PATH): the bundle carries no CUDA kernels;" \
             "the cuda backend will report itself unavailable" >&2
    fi
    exit 0
fi

mkdir -p "$out"
if [[ -f "$fatbin" && -f "$stamp" ]] && grep -q "^sources.sha256=$hash\$" "$stamp"; then
    exit 0 # up to date
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in $files; do echo "#include \"$f\""; done > "$work/sisma_kernels.cu"
start=$(date +%s)
# SK_WG: the row kernels' group size (GpuBackend reads it back from the properties); SK_FP64: every
# CUDA GPU has doubles (Philox normals use Box-Muller in double, as the CPU backend does).
"$nvcc" -x cu -std=c++17 -I"$src" -DSK_WG=256 -DSK_FP64 -O3 -Werror all-warnings \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
    -fatbin -o "$work/sisma-kernels.fatbin" "$work/sisma_kernels.cu"
version=$("$nvcc" --version | grep -o 'release [0-9.]*' | cut -d' ' -f2)
{
    echo "# written by engine.cuda/build-kernels.sh"
    echo "sources.sha256=$hash"
    echo "nvcc=$version"
    echo "sk_wg=256"
    echo "targets=sm_80 sm_90 compute_90"
} > "$work/sisma-kernels.properties"
mv "$work/sisma-kernels.fatbin" "$fatbin"
mv "$work/sisma-kernels.properties" "$stamp"
echo "[engine.cuda] nvcc $version compiled $(echo $files | wc -w) kernel files into $(basename "$fatbin") ($(( $(stat -c %s "$fatbin") / 1024 )) KiB) in $(( $(date +%s) - start )) s"
