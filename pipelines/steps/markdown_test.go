package steps

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ganttTask matches one mermaid task line as gantt() writes it.
var ganttTask = regexp.MustCompile(`^    ([^:]+) :((?:done|active|milestone)(?:, crit)?), s(\d+), (\d+), (\d+)$`)

// mermaidBlock returns the lines inside the ```mermaid fence.
func mermaidBlock(t *testing.T, md string) []string {
	t.Helper()
	_, after, found := strings.Cut(md, "```mermaid\n")
	if !found {
		t.Fatalf("no mermaid block in:\n%s", md)
	}
	body, _, closed := strings.Cut(after, "```")
	if !closed {
		t.Fatalf("mermaid block is not closed:\n%s", md)
	}
	return lines(body)
}

func TestMarkdownOfASuccessfulRun(t *testing.T) {
	r := scriptedRun(t, map[string]Outcome{
		"a": {Summary: "built 2 images", Artifacts: []Artifact{{Kind: KindDigest, Name: "api", Value: "sha256:0123abcd"}}},
		"c": {Cached: true, Summary: "frontend built"},
		"d": {Artifacts: []Artifact{{Kind: KindURL, Name: "site", Value: "https://d111.cloudfront.net/"}}},
	})
	md := r.Markdown()
	for _, want := range []string{
		"## Deploy\n",
		"✅ **4 steps succeeded** in 9s wall time, 15s of step time (1.7× speed-up from parallelism)\n",
		"Critical path: a → b → d\n",
		"| Step | Status | Duration | Cached | Details |\n|---|---|---|---|---|\n",
		"| a | ✅ ok | 1s |  | built 2 images<br>api: `sha256:0123abcd` |\n",
		"| c | ✅ ok | 6s | yes | frontend built |\n",
		"| b | ✅ ok | 7s |  |  |\n",
		"| d | ✅ ok | 1s |  | [site](https://d111.cloudfront.net/) |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	block := mermaidBlock(t, md)
	for i, want := range []string{"gantt", "    title Deploy", "    dateFormat x", "    axisFormat %H:%M:%S"} {
		if block[i] != want {
			t.Errorf("mermaid line %d = %q, want %q", i, block[i], want)
		}
	}
	wantTasks := map[string]struct {
		tags       string
		start, end time.Duration
	}{
		"✔ a":          {"done, crit", 0, time.Second},
		"✔ c (cached)": {"done", 0, 6 * time.Second},
		"✔ b":          {"done, crit", time.Second, 8 * time.Second},
		"✔ d":          {"done, crit", 8 * time.Second, 9 * time.Second},
	}
	seen := 0
	for _, l := range block {
		m := ganttTask.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		seen++
		w, ok := wantTasks[m[1]]
		if !ok {
			t.Errorf("unexpected task line %q", l)
			continue
		}
		if m[2] != w.tags || m[4] != fmt.Sprint(base.Add(w.start).UnixMilli()) || m[5] != fmt.Sprint(base.Add(w.end).UnixMilli()) {
			t.Errorf("task line %q: want tags %q from %v to %v", l, w.tags, w.start, w.end)
		}
	}
	if seen != len(r.Steps) {
		t.Errorf("%d task lines, want one per step (%d):\n%s", seen, len(r.Steps), strings.Join(block, "\n"))
	}
}

func TestMarkdownOfAFailedRun(t *testing.T) {
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	r := &Report{Title: "Deploy", Start: at(0), End: at(10), Steps: []StepResult{
		{Name: "build", Status: StatusOK, Start: at(0), End: at(4), Duration: 4 * time.Second},
		{Name: "rollout", Needs: []string{"build"}, Status: StatusFailed, Start: at(4), End: at(10), Duration: 6 * time.Second, Err: "service api did not stabilize"},
		{Name: "verify", Needs: []string{"rollout"}, Status: StatusSkipped, Reason: "needs rollout"},
	}}
	md := r.Markdown()
	for _, want := range []string{
		"❌ **1 of 3 steps failed (rollout); 1 skipped** in 10s wall time, 10s of step time\n",
		"| rollout | ❌ failed | 6s |  | **error:** service api did not stabilize |\n",
		"| verify | ⏭️ skipped | – |  | _needs rollout_ |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	block := strings.Join(mermaidBlock(t, md), "\n")
	end := at(10).UnixMilli()
	for _, want := range []string{
		fmt.Sprintf("    ✘ rollout :active, crit, s2, %d, %d", at(4).UnixMilli(), end),
		fmt.Sprintf("    ⊘ verify (skipped) :milestone, s3, %d, %d", end, end),
	} {
		if !strings.Contains(block, want) {
			t.Errorf("gantt lacks %q:\n%s", want, block)
		}
	}
}

// unescapedPipes counts the pipes that GFM would treat as cell separators.
func unescapedPipes(row string) int {
	n := 0
	for i, c := range row {
		if c == '|' && (i == 0 || row[i-1] != '\\') {
			n++
		}
	}
	return n
}

func TestMarkdownEscapesNamesAndDetails(t *testing.T) {
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	r := &Report{Title: "Deploy: prod; #1", Start: at(0), End: at(2), Steps: []StepResult{{
		Name: "lint|vet: all", Status: StatusOK, Start: at(0), End: at(2), Duration: 2 * time.Second,
		Summary: "2 | 3 *bold* <b>\nnext",
		Artifacts: []Artifact{
			{Kind: KindImage, Name: "img", Value: "repo:tag|x"},
			{Kind: KindURL, Name: "docs", Value: "https://example.com/a (b)|c"},
			{Kind: KindURL, Name: "local", Value: "file:///etc/passwd"},
		},
	}}}
	md := r.Markdown()
	var row string
	for _, l := range lines(md) {
		if strings.HasPrefix(l, "| lint") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no row for the step:\n%s", md)
	}
	if n := unescapedPipes(row); n != 6 {
		t.Errorf("row has %d cell separators, want 6 (5 cells): %s", n, row)
	}
	for _, want := range []string{
		`| lint\|vet: all |`, `2 \| 3 \*bold\* &lt;b&gt;<br>next`, "img: `repo:tag\\|x`",
		"[docs](https://example.com/a%20%28b%29%7Cc)", "local: `file:///etc/passwd`",
	} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q: %s", want, row)
		}
	}
	block := mermaidBlock(t, md)
	if block[1] != "    title Deploy∶ prod； ＃1" {
		t.Errorf("mermaid title not escaped: %q", block[1])
	}
	var task string
	for _, l := range block {
		if ganttTask.MatchString(l) {
			task = l
		}
	}
	if !strings.HasPrefix(task, "    ✔ lint|vet∶ all :done") {
		t.Errorf("task name should keep no colon of its own: %q", task)
	}
}

func TestText(t *testing.T) {
	r := scriptedRun(t, map[string]Outcome{
		"a": {Summary: "built", Artifacts: []Artifact{{Kind: KindDigest, Name: "api", Value: "sha256:0123"}, {Kind: KindImage, Value: "repo/api:v1"}}},
		"c": {Cached: true},
	})
	want := strings.Join([]string{
		"Deploy: ✔ 4 steps succeeded in 9s wall time, 15s of step time (1.7× speed-up from parallelism)",
		"  ✔ a  1s          built",
		"                     digest api: sha256:0123",
		"                     image repo/api:v1",
		"  ✔ c  6s  cached",
		"  ✔ b  7s",
		"  ✔ d  1s",
		"critical path: a → b → d",
	}, "\n") + "\n"
	if got := r.Text(); got != want {
		t.Errorf("Text():\n%s\nwant:\n%s", got, want)
	}
}
