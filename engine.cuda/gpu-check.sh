#!/usr/bin/env bash
# engine.cuda/gpu-check.sh [OUT_DIR]: the CUDA backend's checks on a machine with an NVIDIA GPU, in
# one go (about 5-8 minutes on an H100 with a warm Maven repository):
#   1. the GPU, its driver, nvcc, PyTorch;
#   2. builds engine.cuda (nvcc compiles the kernels) and what it needs;
#   3. its tests with SISMA_REQUIRE_CUDA=true (a missing GPU fails instead of skipping): the shared
#      conformance suite (GEMM on cuBLAS and on the sk_gemm kernel), the model against the CPU
#      backend and the PyTorch goldens, generate vs the CPU backend for the same seed;
#   4. CudaBench and its PyTorch peer (src/test/python/cuda_peer.py) in the same run, then the ratios;
#   5. ./sisma info, ./sisma bench --backend cuda and bench model --backend cuda (L/2, 256 tokens).
# Everything lands in OUT_DIR (default target/gpu-check); the summary is printed at the end.
# Environment: PYTHON (a python with PyTorch's CUDA build; default python3), CUBLAS_DIR (folder of
# libcublas; default: PyTorch's nvidia-cublas wheel, else the library path), MVN_OFFLINE=-o to stay offline.
# Without Maven (a GPU machine with nothing to fetch from): GPU_KIT=DIR, a kit made by gpu-kit.sh
# (classes, the test class path, optionally a Java runtime in DIR/jdk); steps 2 and 5 are then left
# out and the tests run through KitTestRunner.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$(mkdir -p "${1:-$HERE/target/gpu-check}" && cd "${1:-$HERE/target/gpu-check}" && pwd)"
PY="${PYTHON:-python3}"
KIT="${GPU_KIT:+$(cd "$GPU_KIT" && pwd)}"
cd "$ROOT"
if [ -n "$KIT" ] && [ -x "$KIT/jdk/bin/java" ]; then
    JAVA="$KIT/jdk/bin/java"
else
    . bin/find-java.sh
    find_java
fi
export JAVA_HOME="$(dirname "$(dirname "$JAVA")")"
JVM_ARGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+EnableDynamicAgentLoading)
status=0
step() { echo; echo "== $* ($(date -u +%T))"; }

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv | tee "$OUT/gpu.txt" || { echo "no nvidia-smi: not a GPU machine"; exit 1; }
(command -v nvcc >/dev/null && nvcc --version | tail -2) | tee "$OUT/nvcc.txt" || echo "nvcc: not found (the build then carries no kernels and the tests fail)"
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'GPU', torch.cuda.is_available() and torch.cuda.get_device_name(0))" \
    | tee "$OUT/torch.txt" || echo "no PyTorch in $PY: the peer is skipped"
if [ -z "${CUBLAS_DIR:-}" ]; then
    CUBLAS_DIR="$("$PY" -c "import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], 'lib'))" 2>/dev/null || true)"
fi
echo "cuBLAS folder: ${CUBLAS_DIR:-(library path)}"
export LD_LIBRARY_PATH="${CUBLAS_DIR:+$CUBLAS_DIR:}${LD_LIBRARY_PATH:-}"   # ./sisma's cuda backend searches it

if [ -z "$KIT" ]; then
    step "build (engine.cuda and what it needs)"
    start=$(date +%s)
    if ! timeout 240 mvn ${MVN_OFFLINE:-} -q -B -T 1C install -pl engine.cuda,features/runtime -am -DskipTests >"$OUT/build.log" 2>&1; then
        grep -E "ERROR|engine.cuda" "$OUT/build.log" | head -30; echo "build failed: $OUT/build.log"; exit 1
    fi
    touch features/runtime/target/sisma-runtime/.built   # the runtime was just built: ./sisma need not rebuild it
    grep "\[engine.cuda\]" "$OUT/build.log"; echo "built in $(( $(date +%s) - start )) s"

    step "tests (SISMA_REQUIRE_CUDA=true)"
    SISMA_REQUIRE_CUDA=true timeout 300 mvn ${MVN_OFFLINE:-} -B verify -pl engine.cuda "-Dsisma.cuda.cublasDir=${CUBLAS_DIR:-}" >"$OUT/tests.log" 2>&1 || status=1
    grep -E "Tests run:|FAIL|training step:|generate cfg|relative error" "$OUT/tests.log" | tail -24
    mvn ${MVN_OFFLINE:-} -q -B dependency:build-classpath -pl engine.cuda -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/cp.txt" >/dev/null 2>&1
    CP="engine.cuda/target/classes:engine.cuda/target/test-classes:$(cat "$OUT/cp.txt")"
else
    CP="$KIT/classes:$KIT/test-classes:$KIT/lib/*"
    step "tests from the kit $KIT (SISMA_REQUIRE_CUDA=true)"
    (cd engine.cuda && SISMA_REQUIRE_CUDA=true timeout 300 "$JAVA" "${JVM_ARGS[@]}" "-Dsisma.cuda.cublasDir=${CUBLAS_DIR:-}" \
        -cp "$CP" dev.sisma.engine.cuda.internal.KitTestRunner) >"$OUT/tests.log" 2>&1 || status=1
    grep -E "^\s+(JUnit Jupiter:|=> )|^\[ .*(found|successful|failed|aborted)|training step:|generate cfg|relative error" "$OUT/tests.log" | tail -40
fi

step "CudaBench and the PyTorch peer"
if "$PY" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    timeout 150 "$PY" engine.cuda/src/test/python/cuda_peer.py --shapes-out "$OUT/shapes.txt" >"$OUT/torch.json" 2>"$OUT/torch.err" || { status=1; tail -5 "$OUT/torch.err"; }
fi
timeout 150 "$JAVA" "${JVM_ARGS[@]}" "-Dsisma.cuda.cublasDir=${CUBLAS_DIR:-}" -cp "$CP" dev.sisma.engine.cuda.internal.CudaBench \
    $( [ -s "$OUT/shapes.txt" ] && echo --shapes "$OUT/shapes.txt" ) >"$OUT/sisma.json" 2>"$OUT/sisma.err" || { status=1; tail -5 "$OUT/sisma.err"; }
[ -s "$OUT/sisma.json" ] && [ -s "$OUT/torch.json" ] && "$PY" engine.cuda/src/test/python/cuda_peer.py --compare "$OUT/sisma.json" "$OUT/torch.json" | tee "$OUT/compare.txt"

if [ -z "$KIT" ]; then
    step "./sisma info, bench --backend cuda, bench model --backend cuda"
    timeout 60 ./sisma info | tee "$OUT/info.txt"
    timeout 90 ./sisma bench --backend cuda --seconds 0.5 >"$OUT/bench-engine.json" 2>"$OUT/bench-engine.err" || { status=1; tail -3 "$OUT/bench-engine.err"; }
    head -c 1500 "$OUT/bench-engine.json"; echo
    timeout 120 ./sisma bench model --backend cuda --configs sisma-L/2 --tokens 256 --reps 3 --no-train --blocks sisma \
        >"$OUT/bench-model.txt" 2>&1 || status=1
    cat "$OUT/bench-model.txt"
fi

step "done: $( [ $status = 0 ] && echo all passed || echo FAILURES, see above ); files in $OUT"
uptime
exit $status
