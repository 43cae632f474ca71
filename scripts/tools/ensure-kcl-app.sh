#!/usr/bin/env bash
# Prints the Java class path of test-support/kinesis-clients/kcl: the Kinesis Client Library 3 from
# Maven Central (pom.xml there) and KclConsumer compiled against it, cached; built again when either
# file changes. Run: java -cp "$(bash scripts/tools/ensure-kcl-app.sh)" KclConsumer ...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$REPO_ROOT/test-support/kinesis-clients/kcl"
hash=$(cat "$src/pom.xml" "$src/KclConsumer.java" | sha256sum | cut -c1-12)
home="$TOOLS_DIR/kcl-app/$hash"
if [[ ! -e $home/built ]]; then
  with_lock kcl-app
  if [[ ! -e $home/built ]]; then
    command -v mvn >/dev/null || tool_die "mvn not found (apt-get install -y maven)"
    command -v javac >/dev/null || tool_die "javac not found (a JDK 17 or newer is needed)"
    tool_say "fetching the Kinesis Client Library 3 and compiling KclConsumer into $home"
    rm -rf "$home" && mkdir -p "$home"
    mvn -B -q -ntp -f "$src/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/libs" >&2
    javac -d "$home/classes" -cp "$home/libs/*" "$src/KclConsumer.java" >&2
    touch "$home/built"
  fi
fi
echo "$home/classes:$home/libs/*"
