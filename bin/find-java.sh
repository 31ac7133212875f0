#!/usr/bin/env bash
# Sourced by ./sisma and ./run-tests: sets JAVA to a JDK 22+ (25 preferred), or explains what is missing.
NEED=22
# A JDK 22+ with jdk.incubator.vector: JAVA_HOME first, then /usr/lib/jvm (25 preferred), then PATH.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1; }
find_java() {
  local found="" cands=()
  [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME/bin/java")
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*; do [ -x "$d/bin/java" ] && cands+=("$d/bin/java"); done
  command -v java >/dev/null 2>&1 && cands+=("$(command -v java)")
  local best="" bestv=0
  for j in "${cands[@]}"; do
    [ -x "$j" ] || continue
    local v; v=$(java_major "$j"); v=${v%%.*}
    [ -n "$v" ] || continue
    found="$found $j ($v);"
    if [ "$v" -ge "$NEED" ] && [ -z "$best" ]; then best="$j"; bestv=$v; fi
    if [ "$v" -ge "$NEED" ] && [ "$v" = 25 ] && [ "$bestv" != 25 ]; then best="$j"; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "sisma: needs a JDK $NEED or newer (25 recommended); found:${found:- none}" >&2
    echo "sisma: install one (e.g. Temurin 25) and set JAVA_HOME" >&2
    exit 1
  fi
  JAVA="$best"
}
