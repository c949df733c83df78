package cfn

import (
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// fakeCFN is the shared fake AWS seeded with stacks, seen through the
// helpers these tests use.
type fakeCFN struct{ aws *fakeaws.AWS }

func newFakeCFN(t *testing.T, stacks []fakeaws.StackSeed) *fakeCFN {
	// Region names appear in the messages under test.
	f := &fakeCFN{aws: fakeaws.New(t, fakeaws.WithRegion("eu-west-3"))}
	for _, s := range stacks {
		f.aws.SeedStack(s)
	}
	return f
}

// failNext makes the next DescribeStacks answer status with code.
func (f *fakeCFN) failNext(status int, code string) {
	f.aws.Fail("DescribeStacks", fakeaws.Fault{Status: status, Code: code, Message: "Rate exceeded"}, 1)
}

func (f *fakeCFN) reader() *Reader { return NewReader(f.aws.Config()) }

// calls lists the StackName of each DescribeStacks call.
func (f *fakeCFN) calls() []string {
	var out []string
	for _, c := range f.aws.CallsTo("DescribeStacks") {
		out = append(out, c.Body["StackName"].(string))
	}
	return out
}
