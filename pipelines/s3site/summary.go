package s3site

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/bytesize"

	"fmt"
	"strings"
)

// Action is what Publish does (or, in a dry run, would do) with one key.
type Action string

// The actions of a Change.
const (
	ActionUpload    Action = "upload"
	ActionDelete    Action = "delete"
	ActionUnchanged Action = "unchanged"
)

// Change is the decision for one key and why it was taken.
type Change struct {
	Key    string
	Action Action
	Reason string
}

// Summary reports a publish. In a dry run the counts say what would happen.
type Summary struct {
	// Target is s3://bucket/prefix.
	Target string
	DryRun bool
	// Uploaded, Deleted and BytesUploaded count writes that happened (or
	// would happen in a dry run).
	Uploaded      int
	Unchanged     int
	Deleted       int
	BytesUploaded int64
	// Orphans counts objects not in the build, kept because Delete is off.
	Orphans int
	// InvalidationID is set when an invalidation was created; Paths are the
	// invalidated paths (those that would be, in a dry run).
	InvalidationID     string
	InvalidationStatus string
	Paths              []string
	// Changes holds one entry per key, sorted by key.
	Changes []Change
}

// String is a one-paragraph account for the CI log.
func (s Summary) String() string {
	var b strings.Builder
	if s.DryRun {
		fmt.Fprintf(&b, "Dry run for %s: would upload %d files (%s), %d unchanged, would delete %d.",
			s.Target, s.Uploaded, bytesize.Format(s.BytesUploaded), s.Unchanged, s.Deleted)
	} else {
		fmt.Fprintf(&b, "Published to %s: %d files uploaded (%s), %d unchanged, %d deleted.",
			s.Target, s.Uploaded, bytesize.Format(s.BytesUploaded), s.Unchanged, s.Deleted)
	}
	if s.Orphans > 0 {
		fmt.Fprintf(&b, " %d objects are not in the build and were kept (enable delete to remove them).", s.Orphans)
	}
	switch {
	case s.DryRun && len(s.Paths) > 0:
		fmt.Fprintf(&b, " Would invalidate %s. Nothing was changed.", strings.Join(s.Paths, " "))
	case s.DryRun:
		b.WriteString(" Nothing to invalidate. Nothing was changed.")
	case s.InvalidationID != "":
		fmt.Fprintf(&b, " CloudFront invalidation %s (%s) for %s.", s.InvalidationID, s.InvalidationStatus, strings.Join(s.Paths, " "))
	case s.Uploaded+s.Deleted == 0:
		b.WriteString(" Nothing changed, so no invalidation.")
	}
	return b.String()
}
