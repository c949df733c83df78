package ecs

import (
	"fmt"
	"strings"
)

// maxEventLines bounds the events printed in an error; Result.Events and
// RolloutError.Events keep them all.
const maxEventLines = 30

// RolloutError is the error of a failed rollout. Its first line says what
// went wrong and what became of the rollback; the following lines list the
// service events since the rollout started and why failed tasks stopped.
type RolloutError struct {
	// Service and Cluster name the rolled-out service.
	Service string
	Cluster string // see Service
	// Kind classifies the failure.
	Kind FailureKind
	// Reason is one line saying why the deployment failed.
	Reason string
	// Rollback is one line saying what happened about a rollback; empty
	// when none was asked for.
	Rollback string
	// Events are the new service events, oldest first.
	Events []string
	// StoppedTasks has one line per stopped task of the failed deployment.
	StoppedTasks []string
	// Logs are the last CloudWatch Logs lines of the first failed tasks'
	// failed containers, each block under a header line, or a line saying
	// why they could not be read.
	Logs []string
	// Err is the underlying API error, if any.
	Err error
}

// Error renders the summary line followed by the details.
func (e *RolloutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ecs rollout of service %s (cluster %s) failed: ", e.Service, clusterName(e.Cluster))
	if e.Rollback != "" {
		b.WriteString(strings.TrimSuffix(e.Reason, ".") + "; " + e.Rollback)
	} else {
		b.WriteString(e.Reason)
	}
	if len(e.Events) > 0 {
		b.WriteString("\n  service events since the rollout started (oldest first):")
		events := e.Events
		if n := len(events) - maxEventLines; n > 0 {
			fmt.Fprintf(&b, "\n    ... %d earlier events left out", n)
			events = events[n:]
		}
		for _, ev := range events {
			b.WriteString("\n    " + ev)
		}
	}
	if len(e.StoppedTasks) > 0 {
		b.WriteString("\n  stopped tasks of the failed deployment:")
		for _, t := range e.StoppedTasks {
			b.WriteString("\n    " + t)
		}
	}
	if len(e.Logs) > 0 {
		b.WriteString("\n  logs of the failed tasks:")
		for _, l := range e.Logs {
			b.WriteString("\n    " + l)
		}
	}
	return b.String()
}

// Unwrap returns the underlying API error, so errors.As finds it.
func (e *RolloutError) Unwrap() error { return e.Err }
