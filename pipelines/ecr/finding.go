package ecr

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Finding is one vulnerability reported by the image scan.
type Finding struct {
	// Name is the vulnerability id, e.g. CVE-2024-1234.
	Name     string
	Severity Severity
	// Package is "name version" of the affected package, when reported.
	Package string
	// URI points at the vulnerability's description.
	URI string
}

// String renders the finding as "CVE-… (HIGH, openssl 3.0.1, https://…)".
func (f Finding) String() string {
	parts := []string{f.Severity.String()}
	if f.Package != "" {
		parts = append(parts, f.Package)
	}
	if f.URI != "" {
		parts = append(parts, f.URI)
	}
	return fmt.Sprintf("%s (%s)", f.Name, strings.Join(parts, ", "))
}

// pageFindings reads both the basic and the enhanced (Inspector) findings.
func pageFindings(out *awsecr.DescribeImageScanFindingsOutput) []Finding {
	if out == nil || out.ImageScanFindings == nil {
		return nil
	}
	var list []Finding
	for _, f := range out.ImageScanFindings.Findings {
		list = append(list, basicFinding(f))
	}
	for _, f := range out.ImageScanFindings.EnhancedFindings {
		list = append(list, enhancedFinding(f))
	}
	return list
}

func basicFinding(f types.ImageScanFinding) Finding {
	attrs := map[string]string{}
	for _, a := range f.Attributes {
		attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return Finding{
		Name:     aws.ToString(f.Name),
		Severity: findingSeverity(string(f.Severity)),
		Package:  joinNonEmpty(attrs["package_name"], attrs["package_version"]),
		URI:      aws.ToString(f.Uri),
	}
}

func enhancedFinding(f types.EnhancedImageScanFinding) Finding {
	out := Finding{Name: aws.ToString(f.Title), Severity: findingSeverity(aws.ToString(f.Severity))}
	if d := f.PackageVulnerabilityDetails; d != nil {
		if id := aws.ToString(d.VulnerabilityId); id != "" {
			out.Name = id
		}
		out.URI = aws.ToString(d.SourceUrl)
		if len(d.VulnerablePackages) > 0 {
			p := d.VulnerablePackages[0]
			out.Package = joinNonEmpty(aws.ToString(p.Name), aws.ToString(p.Version))
		}
	}
	return out
}

func joinNonEmpty(a, b string) string {
	return strings.TrimSpace(a + " " + b)
}

// sortFindings orders most severe first, then by name and package so the
// report is stable.
func sortFindings(list []Finding) {
	slices.SortStableFunc(list, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Package, b.Package))
	})
}

// ScanGateError is returned by WaitForScan when findings reach the
// threshold. Blocking holds all of them; the message lists the first few.
type ScanGateError struct {
	Image     string
	Threshold Severity
	Blocking  []Finding
}

// maxListedFindings bounds the message; the full list stays in Blocking.
const maxListedFindings = 20

// Error lists the blocking findings, most severe first.
func (e *ScanGateError) Error() string {
	shown := e.Blocking[:min(len(e.Blocking), maxListedFindings)]
	items := make([]string, len(shown))
	for i, f := range shown {
		items[i] = f.String()
	}
	more := ""
	if n := len(e.Blocking) - len(shown); n > 0 {
		more = fmt.Sprintf("; and %d more", n)
	}
	return fmt.Sprintf("image %s has %d vulnerabilities at or above %s: %s%s: fix them (update the base image or packages) or raise the scan threshold",
		e.Image, len(e.Blocking), e.Threshold, strings.Join(items, "; "), more)
}
