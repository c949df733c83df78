package s3site

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"
)

// plan is the outcome of comparing the build with the bucket.
type plan struct {
	uploads []localFile
	deletes []string
	orphans int
	changes []Change // sorted by key
}

// makePlan decides for every key. Only same-size objects need a HeadObject
// (run in parallel); new or resized files are uploads without asking.
func makePlan(ctx context.Context, api s3API, o Options, files []localFile, remote map[string]remoteObject) (plan, error) {
	reasons := make([]string, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for i, f := range files {
		obj, ok := remote[f.key]
		switch {
		case !ok:
			reasons[i] = "new file"
		case obj.size != f.size:
			reasons[i] = fmt.Sprintf("size changed (%d -> %d bytes)", obj.size, f.size)
		default:
			g.Go(func() error {
				r, err := compareObject(gctx, api, o.Bucket, f)
				reasons[i] = r
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return plan{}, err
	}

	var p plan
	local := make(map[string]bool, len(files))
	for i, f := range files {
		local[f.key] = true
		if reasons[i] == "" {
			p.changes = append(p.changes, Change{Key: f.key, Action: ActionUnchanged, Reason: "same content and headers"})
			continue
		}
		p.uploads = append(p.uploads, f)
		p.changes = append(p.changes, Change{Key: f.key, Action: ActionUpload, Reason: reasons[i]})
	}
	for key := range remote {
		switch {
		case local[key]:
		case o.Delete:
			p.deletes = append(p.deletes, key)
			p.changes = append(p.changes, Change{Key: key, Action: ActionDelete, Reason: "not in the build"})
		default:
			p.orphans++
		}
	}
	sort.Strings(p.deletes)
	sort.Slice(p.changes, func(i, j int) bool { return p.changes[i].Key < p.changes[j].Key })
	return p, nil
}
