package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// scanReply builds a DescribeImageScanFindings response.
func scanReply(status, description, next string, findings ...map[string]any) reply {
	body := map[string]any{
		"repositoryName":  "app",
		"imageId":         map[string]string{"imageDigest": testDigest},
		"imageScanStatus": map[string]string{"status": status, "description": description},
	}
	if findings != nil {
		body["imageScanFindings"] = map[string]any{"findings": findings}
	}
	if next != "" {
		body["nextToken"] = next
	}
	b, _ := json.Marshal(body)
	return ok(string(b))
}

func basic(name, severity, pkg, version string) map[string]any {
	return map[string]any{
		"name": name, "severity": severity, "uri": "https://cve.example/" + name,
		"attributes": []map[string]string{{"key": "package_name", "value": pkg}, {"key": "package_version", "value": version}},
	}
}

var scanNotFound = apiError("ScanNotFoundException", "Image scan does not exist for the image")

// recorder is an injected Sleep and Log that never waits.
type recorder struct {
	sleeps []time.Duration
	logs   []string
}

func (r *recorder) options(threshold Severity) ScanOptions {
	return ScanOptions{
		Threshold: threshold,
		Sleep:     func(_ context.Context, d time.Duration) error { r.sleeps = append(r.sleeps, d); return nil },
		Log:       func(s string) { r.logs = append(r.logs, s) },
	}
}

func TestWaitForScan(t *testing.T) {
	// pendingThenFindings: not started, in progress, then two pages of findings.
	pendingThenFindings := func() map[string][]reply {
		return map[string][]reply{"DescribeImageScanFindings": {
			scanNotFound,
			scanReply("IN_PROGRESS", "", ""),
			scanReply("COMPLETE", "The scan was completed successfully.", "page-2",
				basic("CVE-2024-0002", "HIGH", "openssl", "3.0.1"), basic("CVE-2024-0009", "LOW", "zlib", "1.2")),
			scanReply("COMPLETE", "", "",
				basic("CVE-2024-0001", "HIGH", "curl", "8.0"), basic("CVE-2024-0005", "MEDIUM", "bash", "5.1")),
		}}
	}
	for _, tc := range []struct {
		name         string
		threshold    Severity
		script       map[string][]reply
		wantErr      []string // substrings; none means success
		wantBlocking []string
		wantCalls    int
		wantSleeps   int
	}{
		{
			name: "pending then HIGH finding fails a HIGH gate", threshold: SeverityHigh, script: pendingThenFindings(),
			wantErr: []string{"2 vulnerabilities at or above HIGH",
				"CVE-2024-0001 (HIGH, curl 8.0, https://cve.example/CVE-2024-0001); CVE-2024-0002 (HIGH, openssl 3.0.1, https://cve.example/CVE-2024-0002)"},
			wantBlocking: []string{"CVE-2024-0001", "CVE-2024-0002"},
			wantCalls:    4, wantSleeps: 2,
		},
		{
			name: "same findings pass a CRITICAL gate", threshold: SeverityCritical, script: pendingThenFindings(),
			wantCalls: 4, wantSleeps: 2,
		},
		{
			name: "MEDIUM gate blocks MEDIUM and above, most severe first", threshold: SeverityMedium, script: pendingThenFindings(),
			wantErr:      []string{"3 vulnerabilities at or above MEDIUM"},
			wantBlocking: []string{"CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0005"},
			wantCalls:    4, wantSleeps: 2,
		},
		{
			name: "failed scan", threshold: SeverityHigh,
			script:    map[string][]reply{"DescribeImageScanFindings": {scanReply("PENDING", "", ""), scanReply("FAILED", "Scan failed: layer too large", "")}},
			wantErr:   []string{"ended with status FAILED: Scan failed: layer too large"},
			wantCalls: 2, wantSleeps: 1,
		},
		{
			name: "unsupported image", threshold: SeverityLow,
			script:    map[string][]reply{"DescribeImageScanFindings": {scanReply("UNSUPPORTED_IMAGE", "UnsupportedImageError: The operating system is not supported", "")}},
			wantErr:   []string{"status UNSUPPORTED_IMAGE", "operating system is not supported"},
			wantCalls: 1,
		},
		{
			name: "enhanced scanning findings", threshold: SeverityCritical,
			script: map[string][]reply{"DescribeImageScanFindings": {ok(`{"imageScanStatus":{"status":"ACTIVE"},"imageScanFindings":{"enhancedFindings":[
				{"title":"CVE-2023-7777 - glibc","severity":"CRITICAL","packageVulnerabilityDetails":{"vulnerabilityId":"CVE-2023-7777","sourceUrl":"https://nvd.example/7777","vulnerablePackages":[{"name":"glibc","version":"2.31"}]}},
				{"title":"untriaged thing","severity":"UNTRIAGED"}]}}`)}},
			wantErr:      []string{"CVE-2023-7777 (CRITICAL, glibc 2.31, https://nvd.example/7777)"},
			wantBlocking: []string{"CVE-2023-7777"},
			wantCalls:    1,
		},
		{
			name: "image missing", threshold: SeverityHigh,
			script:    map[string][]reply{"DescribeImageScanFindings": {apiError("ImageNotFoundException", "gone")}},
			wantErr:   []string{"not found: push it before waiting for its scan"},
			wantCalls: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, tc.script)
			var rec recorder
			res, err := c.WaitForScan(context.Background(), "app", testDigest, rec.options(tc.threshold))
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			var blocking []string
			for _, b := range res.Blocking {
				blocking = append(blocking, b.Name)
			}
			if !slices.Equal(blocking, tc.wantBlocking) {
				t.Errorf("blocking = %v, want %v", blocking, tc.wantBlocking)
			}
			if tc.wantBlocking != nil {
				var gate *ScanGateError
				if !errors.As(err, &gate) || len(gate.Blocking) != len(tc.wantBlocking) {
					t.Errorf("want a *ScanGateError with the blocking findings, got %v", err)
				}
			}
			if n := len(f.ops()); n != tc.wantCalls {
				t.Errorf("calls = %d, want %d", n, tc.wantCalls)
			}
			if len(rec.sleeps) != tc.wantSleeps || len(rec.logs) != tc.wantSleeps {
				t.Errorf("sleeps = %v, logs = %v, want %d of each", rec.sleeps, rec.logs, tc.wantSleeps)
			}
			for _, d := range rec.sleeps {
				if d != DefaultScanPoll {
					t.Errorf("slept %s, want the default poll %s", d, DefaultScanPoll)
				}
			}
		})
	}
}

func TestWaitForScanPaginatesAndSorts(t *testing.T) {
	f, c := newFake(t, map[string][]reply{"DescribeImageScanFindings": {
		scanReply("COMPLETE", "", "tok-2", basic("CVE-B", "LOW", "b", "1")),
		scanReply("COMPLETE", "", "tok-3", basic("CVE-C", "CRITICAL", "c", "1")),
		scanReply("COMPLETE", "", "", basic("CVE-A", "INFORMATIONAL", "a", "1"), basic("CVE-D", "UNDEFINED", "d", "1")),
	}})
	var rec recorder
	res, err := c.WaitForScan(context.Background(), "app", testDigest, rec.options(SeverityCritical))
	if err == nil {
		t.Fatal("the CRITICAL finding on page 2 must fail the gate")
	}
	var names []string
	for _, fd := range res.Findings {
		names = append(names, fd.Name+"/"+fd.Severity.String())
	}
	want := []string{"CVE-C/CRITICAL", "CVE-B/LOW", "CVE-A/INFORMATIONAL", "CVE-D/UNDEFINED"}
	if !slices.Equal(names, want) {
		t.Errorf("findings = %v, want %v", names, want)
	}
	bodies := f.bodies("DescribeImageScanFindings")
	if len(bodies) != 3 || field(bodies[0], "nextToken") != nil || field(bodies[1], "nextToken") != "tok-2" || field(bodies[2], "nextToken") != "tok-3" {
		t.Errorf("page tokens sent: %v", bodies)
	}
	if field(bodies[0], "imageId", "imageDigest") != testDigest || field(bodies[0], "repositoryName") != "app" {
		t.Errorf("first request = %v", bodies[0])
	}
}

func TestWaitForScanTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply reply
		want  string
	}{
		{"never started", scanNotFound, "no scan of app@" + testDigest + " started within 3m0s: turn on scan on push"},
		{"stuck in progress", scanReply("IN_PROGRESS", "", ""), "still IN_PROGRESS after 3m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, map[string][]reply{"DescribeImageScanFindings": {tc.reply, tc.reply, tc.reply, tc.reply}})
			var rec recorder
			opts := rec.options(SeverityHigh)
			opts.Poll, opts.Timeout = time.Minute, 3*time.Minute
			_, err := c.WaitForScan(context.Background(), "app", testDigest, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if len(rec.sleeps) != 3 {
				t.Errorf("sleeps = %v, want three one-minute waits", rec.sleeps)
			}
		})
	}
}

func TestWaitForScanStopsWhenSleepFails(t *testing.T) {
	_, c := newFake(t, map[string][]reply{"DescribeImageScanFindings": {scanNotFound}})
	opts := ScanOptions{Threshold: SeverityHigh, Sleep: func(context.Context, time.Duration) error { return context.Canceled }}
	_, err := c.WaitForScan(context.Background(), "app", testDigest, opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped waiting for the scan") {
		t.Fatalf("error = %v", err)
	}
}

func TestWaitForScanDisabledOrInvalidSendsNothing(t *testing.T) {
	f, c := newFake(t, nil)
	res, err := c.WaitForScan(context.Background(), "app", testDigest, ScanOptions{})
	if err != nil || !res.Skipped {
		t.Fatalf("WaitForScan with no threshold = %+v, %v; want skipped", res, err)
	}
	if _, err := c.WaitForScan(context.Background(), "app", testDigest, ScanOptions{Threshold: SeverityCritical + 1}); err == nil ||
		!strings.Contains(err.Error(), "invalid scan threshold Severity(7)") {
		t.Errorf("out-of-range threshold: %v", err)
	}
	if ops := f.ops(); len(ops) != 0 {
		t.Errorf("disabled gate sent %v", ops)
	}
}

func TestScanGateErrorListsAtMostTwenty(t *testing.T) {
	var blocking []Finding
	for i := range 25 {
		blocking = append(blocking, Finding{Name: "CVE-" + string(rune('a'+i)), Severity: SeverityHigh})
	}
	msg := (&ScanGateError{Image: "app@" + testDigest, Threshold: SeverityHigh, Blocking: blocking}).Error()
	if !strings.Contains(msg, "25 vulnerabilities") || !strings.Contains(msg, "CVE-t (HIGH)") || strings.Contains(msg, "CVE-u") || !strings.Contains(msg, "and 5 more") {
		t.Errorf("message = %s", msg)
	}
}

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Severity
		err  bool
	}{
		{"", SeverityNone, false}, {"none", SeverityNone, false}, {"NONE", SeverityNone, false},
		{"undefined", SeverityUndefined, false}, {"Informational", SeverityInformational, false},
		{"low", SeverityLow, false}, {"MEDIUM", SeverityMedium, false}, {" high ", SeverityHigh, false},
		{"critical", SeverityCritical, false}, {"severe", SeverityNone, true}, {"UNTRIAGED", SeverityNone, true},
	} {
		got, err := ParseSeverity(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "NONE, UNDEFINED, INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL") {
			t.Errorf("error should list the valid values: %v", err)
		}
	}
	if !(SeverityUndefined < SeverityInformational && SeverityInformational < SeverityLow && SeverityLow < SeverityMedium &&
		SeverityMedium < SeverityHigh && SeverityHigh < SeverityCritical) {
		t.Error("severities are out of order")
	}
	if findingSeverity("UNTRIAGED") != SeverityUndefined || findingSeverity("") != SeverityUndefined {
		t.Error("unknown finding severities must rank as UNDEFINED")
	}
}
