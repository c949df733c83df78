//go:build unix

package builtin

import (
	"fmt"
	"os"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// reexecWith replaces the test process with itself under env when any
// variable differs, so the jsii child inherits it. jsii.Close first
// removes the runtime the package initialization extracted.
func reexecWith(env map[string]string) {
	missing := false
	for k, v := range env {
		missing = missing || os.Getenv(k) != v
	}
	if !missing {
		return
	}
	vars := os.Environ()
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	jsii.Close()
	err := syscall.Exec(os.Args[0], os.Args, vars)
	fmt.Fprintln(os.Stderr, "re-executing the test binary with its jsii environment:", err)
	os.Exit(1)
}
