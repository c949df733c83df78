// Package integration calls the stevedore Dagger module for real, through a
// running engine (`dagger call`), the way users and CI do. Run with
// `go test -tags integration ./integration/` after sourcing the engine env
// (see .ci/run).
package integration
