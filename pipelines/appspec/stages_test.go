package appspec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDockerfileStages(t *testing.T) {
	const df = `# syntax=docker/dockerfile:1
ARG PY=python:3.11-slim
FROM --platform=$BUILDPLATFORM ${PY} AS Base
WORKDIR /app
# FROM commented AS out
FROM base as deps
RUN pip install \
    -r requirements.txt
FROM deps \
  AS test
COPY tests tests
FROM deps
`
	if got := dockerfileStages(df); !slices.Equal(got, []string{"base", "deps", "test"}) {
		t.Fatalf("stages = %v", got)
	}
}

func TestCheckStages(t *testing.T) {
	app, err := Parse("x", []byte(`name: x
services:
  - {name: api, context: api, port: 1, test: {stage: Test, command: pytest}}
  - {name: worker, context: worker, port: 2, test: {stage: tset, command: pytest}}
  - {name: plain, context: plain, port: 3, test: {stage: test, command: pytest}}
  - {name: own, context: own, port: 4, test: {serviceImage: true, command: pytest}}
`))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"api/Dockerfile":    "FROM python:3.11-slim AS base\nFROM base AS test\nFROM base\n",
		"worker/Dockerfile": "FROM python:3.11-slim AS base\nFROM base AS test\n",
		"plain/Dockerfile":  "FROM python:3.11-slim\n",
	}
	var read []string
	err = app.CheckStages(func(p string) (string, error) {
		read = append(read, p)
		if c, ok := files[p]; ok {
			return c, nil
		}
		return "", errors.New("no such file")
	})
	if err == nil {
		t.Fatal("unknown stages accepted")
	}
	for _, w := range []string{
		`services[worker].test.stage: worker/Dockerfile has no stage "tset" (its stages: base, test)`,
		`services[plain].test.stage: plain/Dockerfile has no stage "test" (it names no stage (FROM … AS <name>))`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\n does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "services[api]") {
		t.Errorf("a stage matching in another case is reported: %q", err)
	}
	if slices.Contains(read, "own/Dockerfile") {
		t.Error("the Dockerfile of a service testing in its own image was read")
	}
}
