#!/usr/bin/env bash
# Prints the Java class path of a program whose build file is DIR/pom.xml: its runtime jars from
# Maven Central, plus the listed sources in DIR compiled against them; cached, built again when any
# of those files changes. Used by bench/peers for the tools Tideway is measured against.
# Usage: bash scripts/tools/java-classpath.sh NAME DIR ["Main.java Other.java"]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 2 ]] || tool_die "usage: java-classpath.sh NAME DIR [SOURCES]"
java_app_classpath "$1" "$(cd "$2" && pwd)" "${3:-}" "$1"
