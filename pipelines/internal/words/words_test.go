package words

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "step", "1 step"},
		{0, "step", "0 steps"},
		{3, "smoke request", "3 smoke requests"},
		{1, "repository", "1 repository"},
		{2, "repository", "2 repositories"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
