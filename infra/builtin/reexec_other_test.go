//go:build !unix

package builtin

import "os"

// reexecWith sets env for the rest of the run; without exec the jsii child
// may not see it, which only makes synthesis slower.
func reexecWith(env map[string]string) {
	for k, v := range env {
		os.Setenv(k, v)
	}
}
