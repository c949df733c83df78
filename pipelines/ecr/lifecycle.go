package ecr

import (
	"encoding/json"
	"fmt"
)

// Lifecycle policy document shapes (ECR lifecycle policy reference).
type lifecyclePolicy struct {
	Rules []lifecycleRule `json:"rules"`
}

type lifecycleRule struct {
	RulePriority int                `json:"rulePriority"`
	Description  string             `json:"description"`
	Selection    lifecycleSelection `json:"selection"`
	Action       lifecycleAction    `json:"action"`
}

type lifecycleSelection struct {
	TagStatus   string `json:"tagStatus"`
	CountType   string `json:"countType"`
	CountNumber int    `json:"countNumber"`
}

type lifecycleAction struct {
	Type string `json:"type"`
}

// keepLastPolicy returns a lifecycle policy that expires every image beyond
// the newest n, tagged or not, so the repository does not grow without bound.
func keepLastPolicy(n int) (string, error) {
	if n <= 0 {
		return "", fmt.Errorf("lifecycle policy needs a positive image count, got %d", n)
	}
	doc := lifecyclePolicy{Rules: []lifecycleRule{{
		RulePriority: 1,
		Description:  fmt.Sprintf("keep the last %d images", n),
		Selection:    lifecycleSelection{TagStatus: "any", CountType: "imageCountMoreThan", CountNumber: n},
		Action:       lifecycleAction{Type: "expire"},
	}}}
	b, err := json.Marshal(doc)
	return string(b), err
}
