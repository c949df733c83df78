package ecr

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"

	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Defaults for ScanOptions.
const (
	DefaultScanPoll    = 5 * time.Second
	DefaultScanTimeout = 10 * time.Minute
)

// ScanOptions configures WaitForScan.
type ScanOptions struct {
	// Threshold fails the gate on any finding at or above it. SeverityNone
	// disables the gate: WaitForScan then returns at once.
	Threshold Severity
	// Poll is the wait between checks (default 5s).
	Poll time.Duration
	// Timeout bounds the total time spent waiting between checks (default
	// 10m). It counts the waits rather than wall time so an injected Sleep
	// makes the behaviour exact.
	Timeout time.Duration
	// Sleep waits d or until ctx ends; nil uses a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives one line per check while the scan is pending; nil drops them.
	Log func(string)
}

// ScanResult is the outcome of a completed scan.
type ScanResult struct {
	// Skipped is true when the gate was disabled and nothing was checked.
	Skipped bool
	// Status is the final scan status, COMPLETE or ACTIVE.
	Status string
	// Findings lists every finding, most severe first.
	Findings []Finding
	// Blocking lists the findings at or above the threshold.
	Blocking []Finding
}

// WaitForScan waits for the scan of repo@digest to finish and fails when a
// finding reaches opts.Threshold. The result is returned with the error
// (a *ScanGateError) so the caller can report every finding.
func (c *Client) WaitForScan(ctx context.Context, repo, digest string, opts ScanOptions) (ScanResult, error) {
	if err := ValidateRepositoryName(repo); err != nil {
		return ScanResult{}, err
	}
	if err := validateDigest(digest); err != nil {
		return ScanResult{}, err
	}
	if opts.Threshold < SeverityNone || opts.Threshold > SeverityCritical {
		return ScanResult{}, fmt.Errorf("invalid scan threshold %s: use ParseSeverity to read it", opts.Threshold)
	}
	if opts.Threshold == SeverityNone {
		return ScanResult{Skipped: true}, nil
	}
	opts = opts.withDefaults()
	image := repo + "@" + digest

	var waited time.Duration
	for {
		out, err := c.api.DescribeImageScanFindings(ctx, scanInput(repo, digest, nil))
		state := "not started yet"
		switch {
		case hasCode(err, codeScanNotFound):
			// The scan is queued a moment after the push.
		case hasCode(err, codeImageNotFound):
			return ScanResult{}, fmt.Errorf("image %s not found: push it before waiting for its scan", image)
		case hasCode(err, codeRepositoryNotFound):
			return ScanResult{}, errRepositoryMissing(repo)
		case err != nil:
			return ScanResult{}, awsconf.Explain("ecr:DescribeImageScanFindings", err)
		default:
			status, description := scanStatus(out)
			switch status {
			case types.ScanStatusComplete, types.ScanStatusActive:
				return c.evaluateScan(ctx, repo, digest, out, opts.Threshold)
			case types.ScanStatusInProgress, types.ScanStatusPending:
				state = string(status)
			default: // FAILED, UNSUPPORTED_IMAGE and any other end state
				return ScanResult{Status: string(status)}, fmt.Errorf("scan of %s ended with status %s: %s", image, status, orNone(description))
			}
		}
		if waited >= opts.Timeout {
			return ScanResult{}, scanTimeoutError(image, state, opts.Timeout)
		}
		opts.Log(fmt.Sprintf("ECR scan of %s: %s, checking again in %s", image, state, opts.Poll))
		if err := opts.Sleep(ctx, opts.Poll); err != nil {
			return ScanResult{}, fmt.Errorf("stopped waiting for the scan of %s: %w", image, err)
		}
		waited += opts.Poll
	}
}

func (o ScanOptions) withDefaults() ScanOptions {
	if o.Poll <= 0 {
		o.Poll = DefaultScanPoll
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultScanTimeout
	}
	if o.Sleep == nil {
		o.Sleep = wait.Sleep
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	return o
}

func scanTimeoutError(image, state string, timeout time.Duration) error {
	if state == "not started yet" {
		return fmt.Errorf("no scan of %s started within %s: turn on scan on push for the repository (or enhanced scanning for the registry), or disable the scan gate", image, timeout)
	}
	return fmt.Errorf("scan of %s still %s after %s: raise the scan timeout or check the scan in the ECR console", image, state, timeout)
}

// maxFindingsPerPage is the API's upper bound for MaxResults.
const maxFindingsPerPage = 1000

func scanInput(repo, digest string, next *string) *awsecr.DescribeImageScanFindingsInput {
	return &awsecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String(repo),
		ImageId:        &types.ImageIdentifier{ImageDigest: aws.String(digest)},
		MaxResults:     aws.Int32(maxFindingsPerPage),
		NextToken:      next,
	}
}

func scanStatus(out *awsecr.DescribeImageScanFindingsOutput) (types.ScanStatus, string) {
	if out.ImageScanStatus == nil {
		return "", ""
	}
	return out.ImageScanStatus.Status, aws.ToString(out.ImageScanStatus.Description)
}

// evaluateScan gathers the findings of every page, starting with first, and
// applies the threshold.
func (c *Client) evaluateScan(ctx context.Context, repo, digest string, first *awsecr.DescribeImageScanFindingsOutput, threshold Severity) (ScanResult, error) {
	status, _ := scanStatus(first)
	res := ScanResult{Status: string(status)}
	page := first
	for {
		res.Findings = append(res.Findings, pageFindings(page)...)
		next := page.NextToken
		if next == nil || *next == "" {
			break
		}
		var err error
		page, err = c.api.DescribeImageScanFindings(ctx, scanInput(repo, digest, next))
		if err != nil {
			return ScanResult{}, awsconf.Explain("ecr:DescribeImageScanFindings", err)
		}
		if page.NextToken != nil && *page.NextToken == *next {
			return ScanResult{}, fmt.Errorf("ecr:DescribeImageScanFindings returned the same page token twice for %s@%s: retry the job", repo, digest)
		}
	}
	sortFindings(res.Findings)
	for _, f := range res.Findings {
		if f.Severity >= threshold {
			res.Blocking = append(res.Blocking, f)
		}
	}
	if len(res.Blocking) > 0 {
		return res, &ScanGateError{Image: repo + "@" + digest, Threshold: threshold, Blocking: res.Blocking}
	}
	return res, nil
}

func orNone(s string) string {
	if s == "" {
		return "no description given"
	}
	return s
}
