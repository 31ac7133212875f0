#!/usr/bin/env bash
# Sourced by ./sisma and ./run-tests. find_java sets JAVA to a JDK 22+ (the FFM API; the Vector API
# incubator module): JAVA_HOME when it is one, else the JDKs under /usr/lib/jvm (25 preferred, then
# the newest), else java on the PATH. Otherwise it says which versions it found and exits 1.
NEED=22

# Major version of a JDK home: its `release` file (no JVM start), else ask the JVM.
jdk_major() {
  local v=""
  [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1)
  echo "${v%%.*}"
}

find_java() {
  local found="" best="" bestv=0 home v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$NEED" ]; then JAVA="$JAVA_HOME/bin/java"; return; fi
    found="$found JAVA_HOME=$JAVA_HOME ($v);"
  fi
  for home in ${SISMA_JVM_DIRS:-/usr/lib/jvm}/*; do
    [ -x "$home/bin/java" ] && [ ! -L "$home" ] || continue
    v=$(jdk_major "$home"); [ -n "$v" ] || continue
    found="$found $home ($v);"
    [ "$v" -ge "$NEED" ] || continue
    if [ "$bestv" != 25 ] && { [ "$v" = 25 ] || [ "$v" -gt "$bestv" ]; }; then best="$home/bin/java"; bestv=$v; fi
  done
  if [ -z "$best" ] && command -v java >/dev/null 2>&1; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    v=$(jdk_major "$home")
    found="$found $(command -v java) ($v);"
    [ -n "$v" ] && [ "$v" -ge "$NEED" ] && best="$home/bin/java"
  fi
  if [ -z "$best" ]; then
    echo "sisma: needs a JDK $NEED or newer (25 recommended); found:${found:- none}" >&2
    echo "sisma: install one (e.g. Temurin 25 or openjdk-25-jdk) and set JAVA_HOME to it" >&2
    exit 1
  fi
  JAVA="$best"
}
