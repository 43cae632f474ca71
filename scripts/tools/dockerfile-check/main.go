// dockerfile-check parses a Dockerfile with BuildKit's own parser and instruction parser (what
// `docker build` runs first) with BuildKit's lint rules on, without Docker. It prints one JSON
// document: the stages (name, base image, instructions) and every parser warning and lint
// finding; it exits 1 when the file does not parse or a finding is reported.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

type stage struct {
	Name         string   `json:"name"`
	BaseName     string   `json:"base"`
	Instructions []string `json:"instructions"`
}

type report struct {
	Stages   []stage  `json:"stages"`
	MetaArgs []string `json:"metaArgs"`
	Findings []string `json:"findings"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-check <Dockerfile>")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fail(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		fail(err)
	}
	out := report{Stages: []stage{}, MetaArgs: []string{}, Findings: []string{}}
	for _, w := range res.Warnings {
		out.Findings = append(out.Findings, fmt.Sprintf("line %d: %s", w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		out.Findings = append(out.Findings, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		fail(err)
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			out.MetaArgs = append(out.MetaArgs, kv.Key)
		}
	}
	for _, s := range stages {
		st := stage{Name: s.Name, BaseName: s.BaseName, Instructions: []string{}}
		for _, c := range s.Commands {
			st.Instructions = append(st.Instructions, fmt.Sprint(c))
		}
		out.Stages = append(out.Stages, st)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	if len(out.Findings) > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dockerfile-check:", err)
	os.Exit(1)
}
