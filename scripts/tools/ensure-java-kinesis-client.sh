#!/usr/bin/env bash
# Prints the Java class path of test-support/kinesis-clients/java: the AWS SDK for Java v2's Kinesis
# client from Maven Central (pom.xml there) and KinesisRoundTrip compiled against it, cached; built
# again when either file changes. Run: java -cp "$(bash scripts/tools/ensure-java-kinesis-client.sh)" KinesisRoundTrip ...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

java_app_classpath java-kinesis-client "$REPO_ROOT/test-support/kinesis-clients/java" KinesisRoundTrip.java "the AWS SDK for Java v2 (Kinesis)"
