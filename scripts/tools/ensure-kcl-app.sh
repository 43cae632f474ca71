#!/usr/bin/env bash
# Prints the Java class path of test-support/kinesis-clients/kcl: the Kinesis Client Library 3 from
# Maven Central (pom.xml there) and KclConsumer compiled against it, cached; built again when either
# file changes. Run: java -cp "$(bash scripts/tools/ensure-kcl-app.sh)" KclConsumer ...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

java_app_classpath kcl-app "$REPO_ROOT/test-support/kinesis-clients/kcl" KclConsumer.java "the Kinesis Client Library 3"
