package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendToFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md") // does not exist yet
	first := &Report{Title: "Build", Start: base, End: base.Add(time.Second)}
	second := &Report{Title: "Deploy", Start: base, End: base.Add(time.Second)}
	for _, r := range []*Report{first, second} {
		if err := AppendToFile(path, r); err != nil {
			t.Fatalf("AppendToFile: %v", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := first.Markdown() + "\n" + second.Markdown() + "\n"; string(got) != want {
		t.Errorf("file holds:\n%s\nwant both reports in order:\n%s", got, want)
	}
}

func TestAppendToFileErrors(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "summary.md")
	for _, path := range []string{"", missingDir} {
		err := AppendToFile(path, &Report{})
		if err == nil || !strings.Contains(err.Error(), "append pipeline summary") || !strings.Contains(err.Error(), path) {
			t.Errorf("AppendToFile(%q) = %v, want an error naming the file", path, err)
		}
	}
}
