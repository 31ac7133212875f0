#!/bin/sh
# sisma's GEMM against OpenBLAS at its best kernel, same JVM, same buffers, at the model's Linear
# shapes, 1 and 2 threads: prints a Markdown table (GFLOPS, ratio) and one JSON line.
# Arguments go to GemmPeerBench: [--threads 1,2,4] [--seconds 0.3] [--shapes all|quick].
# Run from anywhere; builds this module's test classes first (offline when it can).
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME
cd "$root"
# each module by its own pom (-f): the build does not depend on the rest of the reactor
engine=bundles/dev.sisma.engine/pom.xml cpu=bundles/dev.sisma.engine.cpu/pom.xml
mvn -q -B -o install -f $engine -DskipTests >/dev/null 2>&1 || mvn -q -B install -f $engine -DskipTests
mvn -q -B -o test-compile -f $cpu >/dev/null 2>&1 || mvn -q -B test-compile -f $cpu
cp=$(mktemp)
trap 'rm -f "$cp"' EXIT
mvn -q -B -o dependency:build-classpath -f $cpu -Dmdep.includeScope=test -Dmdep.outputFile="$cp" >/dev/null
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE would force a slower kernel: unset for this command only
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector \
  --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -cp "$here/target/test-classes:$here/target/classes:$(cat "$cp")" dev.sisma.engine.cpu.GemmPeerBench "$@"
