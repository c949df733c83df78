package ecr

import (
	"fmt"
	"strings"
)

// Severity ranks scan findings. The zero value, SeverityNone, used as a
// threshold turns the scan gate off.
type Severity int

// Severities from lowest to highest. UNDEFINED (and the enhanced scanner's
// UNTRIAGED) rank below INFORMATIONAL.
const (
	SeverityNone Severity = iota
	SeverityUndefined
	SeverityInformational
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"NONE", "UNDEFINED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the ECR spelling, e.g. HIGH.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a threshold as a user writes it (case-insensitive).
// "" and NONE give SeverityNone, which disables the scan gate.
func ParseSeverity(s string) (Severity, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	if v == "" {
		return SeverityNone, nil
	}
	for i, name := range severityNames {
		if v == name {
			return Severity(i), nil
		}
	}
	return SeverityNone, fmt.Errorf("invalid scan severity threshold %q: use one of %s (NONE or empty disables the gate)", s, strings.Join(severityNames[:], ", "))
}

// findingSeverity maps a severity reported by ECR; anything unknown (e.g.
// UNTRIAGED from enhanced scanning) counts as UNDEFINED.
func findingSeverity(s string) Severity {
	sev, err := ParseSeverity(s)
	if err != nil || sev == SeverityNone {
		return SeverityUndefined
	}
	return sev
}
