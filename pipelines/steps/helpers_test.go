package steps

import (
	"context"
	"sync"
	"testing"
	"time"
)

// base is the fake clock's zero: a fixed instant so rendered times are stable.
var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a concurrency-safe clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	at time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return base.Add(c.at)
}

func (c *fakeClock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = d
}

// events is a mutex-guarded log of what steps did, in the order they did it.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

func (e *events) index(s string) int {
	for i, v := range e.all() {
		if v == s {
			return i
		}
	}
	return -1
}

// logLines collects Options.Log output; it is only called from Run's
// goroutine but read from the test's, hence the mutex in events.
func logLines() (*events, func(string)) {
	e := &events{}
	return e, e.add
}

// logFeed streams Options.Log lines to the test so it can wait for the
// scheduler to reach a point before moving the fake clock.
type logFeed chan string

func (f logFeed) log(line string) { f <- line }

// waitFor reads lines until want arrives. The timeout only turns a hang
// (a bug) into a failure; no assertion depends on it.
func (f logFeed) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line := <-f:
			if line == want {
				return
			}
		case <-timeout:
			t.Fatalf("log line %q never came", want)
		}
	}
}

// ok returns a Run func that succeeds with the given outcome.
func ok(out Outcome) func(context.Context) (Outcome, error) {
	return func(context.Context) (Outcome, error) { return out, nil }
}

// resultsByName indexes a report for assertions.
func resultsByName(r *Report) map[string]StepResult {
	m := map[string]StepResult{}
	for _, s := range r.Steps {
		m[s.Name] = s
	}
	return m
}

// assertTopological fails when a step in the report comes before one it needs.
func assertTopological(t *testing.T, r *Report) {
	t.Helper()
	pos := map[string]int{}
	for i, s := range r.Steps {
		pos[s.Name] = i
	}
	for i, s := range r.Steps {
		for _, n := range s.Needs {
			if pos[n] > i {
				t.Errorf("report lists %s (#%d) before its need %s (#%d)", s.Name, i, n, pos[n])
			}
		}
	}
}
