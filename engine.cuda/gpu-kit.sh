#!/usr/bin/env bash
# engine.cuda/gpu-kit.sh DIR [--jdk]: what gpu-check.sh needs on a GPU machine that has no Maven
# (nor a Maven repository, nor network), built here into DIR: engine.cuda's classes and test
# classes, every jar of its test class path (JCuda's natives cut down to libJCudaDriver), and with
# --jdk a jlink'ed Java 25 runtime (the modules the tests use; libjvm stripped). Then, on the GPU
# machine, from the repository root: GPU_KIT=DIR engine.cuda/gpu-check.sh.
# Sizes (about): jars and classes 35 MB, runtime 45 MB; carry them in one or two calls as fits.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
KIT="${1:?usage: gpu-kit.sh DIR [--jdk]}"
cd "$ROOT"
. bin/find-java.sh
find_java
export JAVA_HOME="$(dirname "$(dirname "$JAVA")")"
mkdir -p "$KIT/lib"
KIT="$(cd "$KIT" && pwd)"

mvn -q -B ${MVN_OFFLINE:--o} install -pl engine.gpu,engine.cuda -DskipTests   # the other modules as installed
mvn -q -B ${MVN_OFFLINE:--o} dependency:build-classpath -pl engine.cuda -Dmdep.includeScope=test -Dmdep.outputFile="$KIT/cp.txt"
rm -rf "$KIT/classes" "$KIT/test-classes" "$KIT"/lib/*
cp -r engine.cuda/target/classes "$KIT/classes"
cp -r engine.cuda/target/test-classes "$KIT/test-classes"
tr ':' '\n' <"$KIT/cp.txt" | while read -r jar; do
    case "$(basename "$jar")" in
        jcuda-natives-*)   # only the driver binding (the rest is nvrtc, nvPTXCompiler: 24 MB)
            tmp="$(mktemp -d)"
            (cd "$tmp" && unzip -q "$jar" 'lib/libJCudaDriver-*' && zip -q -r "$KIT/lib/$(basename "$jar")" lib)
            rm -rf "$tmp" ;;
        *) cp "$jar" "$KIT/lib/" ;;
    esac
done
rm "$KIT/cp.txt"
if [ "${2:-}" = "--jdk" ]; then
    rm -rf "$KIT/jdk"
    "$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.instrument,java.sql,java.logging,java.management,java.xml,jdk.attach,jdk.incubator.vector,jdk.unsupported \
        --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$KIT/jdk"
    strip --strip-unneeded "$KIT/jdk/lib/server/libjvm.so" 2>/dev/null || true
fi
du -sh "$KIT"/* | sed "s|$KIT/||"
echo "kit in $KIT; on the GPU machine: GPU_KIT=$KIT engine.cuda/gpu-check.sh (from the repository root)"
