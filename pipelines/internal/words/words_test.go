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

func TestClosest(t *testing.T) {
	keys := []string{"name", "context", "health", "port", "env", "uses", "test", "target"}
	for _, tc := range []struct{ word, want string }{
		{"heath", "health"},   // one letter missing
		{"contxt", "context"}, // one missing
		{"Helath", "health"},  // swapped letters are two edits; case ignored
		{"prot", ""},          // short word, a swap is 2 edits: too far
		{"ports", "port"},     // one extra
		{"tset", ""},          // two edits from test, short: nothing
		{"tes", "test"},       // one edit
		{"stack", ""},         // nothing near
		{"health", ""},        // a known key is no typo
	} {
		if got := Closest(tc.word, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestClosestTie(t *testing.T) {
	if got := Closest("tast", []string{"test", "task"}); got != "" {
		t.Errorf("a tie suggested %q", got)
	}
}
