# The project's own checks. `make test` is what CI (.ci/run) runs; it needs
# a Dagger engine (see README, "Running the tests").
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
GO_PACKAGES := ./...

.PHONY: test lint unit infra integration bench develop

test: lint unit infra integration

# Generated Dagger bindings for ci/ (gitignored), needed to vet the module.
develop:
	dagger develop

lint: develop
	@test -z "$$(gofmt -l pipelines integration ci/*.go)" || { gofmt -l pipelines integration ci/*.go; echo "run gofmt -w on the files above"; exit 1; }
	go vet $(GO_PACKAGES)
	go vet -tags integration ./integration/
	cd ci && go vet ./...
	cd infra && go vet ./...
	go run $(ACTIONLINT)
	shellcheck .github/report-to-summary .ci/run bench/*.sh

# ci/ is package main with generated Dagger bindings that need a session.
unit: develop
	go test -count=1 $(GO_PACKAGES)
	cd ci && dagger run go test -count=1 ./...

infra:
	cd infra && go test -count=1 ./...

integration:
	go test -tags integration -count=1 -timeout 60m -v ./integration/

bench:
	./bench/run.sh
