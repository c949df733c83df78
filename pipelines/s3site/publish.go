package s3site

import (
	"context"
	"fmt"
	"strings"
)

// Publish uploads the site in dir to the bucket and invalidates what
// changed. It validates the options, the directory and the bucket, and
// lists the bucket, before writing anything. On error the Summary says what
// was done until then, and the error names the files already written.
func Publish(ctx context.Context, dir string, o Options) (Summary, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	rules, err := compileRules(o.Rules)
	if err != nil {
		return Summary{}, err
	}
	files, err := scanSite(dir, o.Prefix, rules)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Target: "s3://" + o.Bucket + "/" + o.Prefix, DryRun: o.DryRun}

	api := newS3(o)
	if err := checkBucket(ctx, api, o.Bucket, o.AWS.Region); err != nil {
		return sum, err
	}
	remote, err := listRemote(ctx, api, o.Bucket, o.Prefix)
	if err != nil {
		return sum, err
	}
	p, err := makePlan(ctx, api, o, files, remote)
	if err != nil {
		return sum, err
	}
	sum.Changes, sum.Orphans = p.changes, p.orphans
	sum.Unchanged = len(files) - len(p.uploads)
	logPlan(o, p)

	var paths []string
	if o.DistributionID != "" {
		paths = invalidationPaths(changedKeys(p), o)
	}
	if o.DryRun {
		sum.Uploaded, sum.Deleted, sum.Paths = len(p.uploads), len(p.deletes), paths
		for _, f := range p.uploads {
			sum.BytesUploaded += f.size
		}
		return sum, nil
	}

	up, err := uploadAll(ctx, api, o, p.uploads)
	sum.Uploaded, sum.BytesUploaded = len(up.written), up.bytes
	if err != nil {
		return sum, fmt.Errorf("%w; publish stopped after %d of %d uploads (written: %s); nothing deleted, CloudFront not invalidated",
			err, len(up.written), len(p.uploads), listKeys(up.written))
	}
	sum.Deleted, err = deleteKeys(ctx, api, o, p.deletes)
	if err != nil {
		return sum, fmt.Errorf("%w; all %d uploads done, %d of %d deletes; CloudFront not invalidated",
			err, sum.Uploaded, sum.Deleted, len(p.deletes))
	}
	if len(paths) == 0 {
		return sum, nil
	}
	sum.Paths = paths
	sum.InvalidationID, sum.InvalidationStatus, err = invalidate(ctx, newCloudFront(o), o, paths)
	if err != nil {
		return sum, fmt.Errorf("files are published but the CDN may serve old ones: %w", err)
	}
	return sum, nil
}

// changedKeys are the keys whose URLs must be invalidated.
func changedKeys(p plan) []string {
	keys := make([]string, 0, len(p.uploads)+len(p.deletes))
	for _, f := range p.uploads {
		keys = append(keys, f.key)
	}
	return append(keys, p.deletes...)
}

func logPlan(o Options, p plan) {
	verb := "will"
	if o.DryRun {
		verb = "would"
	}
	o.Log(fmt.Sprintf("%s: %d to upload, %d unchanged, %d to delete", "s3://"+o.Bucket+"/"+o.Prefix,
		len(p.uploads), len(p.changes)-len(p.uploads)-len(p.deletes), len(p.deletes)))
	for _, c := range p.changes {
		if c.Action != ActionUnchanged {
			o.Log(fmt.Sprintf("%s %s %s: %s", verb, c.Action, c.Key, c.Reason))
		}
	}
}

// listKeys names up to ten keys for an error message.
func listKeys(keys []string) string {
	switch {
	case len(keys) == 0:
		return "none"
	case len(keys) > 10:
		return strings.Join(keys[:10], ", ") + fmt.Sprintf(" and %d more", len(keys)-10)
	}
	return strings.Join(keys, ", ")
}
