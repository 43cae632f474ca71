#!/usr/bin/env bash
# Prints the Java class path of test-support/kinesis-clients/java: the AWS SDK for Java v2's Kinesis
# client from Maven Central (pom.xml there) and KinesisRoundTrip compiled against it, cached; built
# again when either file changes. Run: java -cp "$(bash scripts/tools/ensure-java-kinesis-client.sh)" KinesisRoundTrip ...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$REPO_ROOT/test-support/kinesis-clients/java"
hash=$(cat "$src/pom.xml" "$src/KinesisRoundTrip.java" | sha256sum | cut -c1-12)
home="$TOOLS_DIR/java-kinesis-client/$hash"
if [[ ! -e $home/built ]]; then
  with_lock java-kinesis-client
  if [[ ! -e $home/built ]]; then
    command -v mvn >/dev/null || tool_die "mvn not found (apt-get install -y maven)"
    command -v javac >/dev/null || tool_die "javac not found (a JDK 17 or newer is needed)"
    tool_say "fetching the AWS SDK for Java v2 (Kinesis) and compiling KinesisRoundTrip into $home"
    rm -rf "$home" && mkdir -p "$home"
    mvn -B -q -ntp -f "$src/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/libs" >&2
    javac -d "$home/classes" -cp "$home/libs/*" "$src/KinesisRoundTrip.java" >&2
    touch "$home/built"
  fi
fi
echo "$home/classes:$home/libs/*"
