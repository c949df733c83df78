// Package release keeps what each environment runs: a record per deploy
// (git commit, image digests, frontend hash, stacks, when, by whom), the
// history of those records, and one lock per environment so two deploys of
// the same environment never run at once, from CI or from a laptop.
//
// Everything lives in SSM Parameter Store under /stevedore/<app>/<env>/, so
// anyone with ssm:GetParameter* on that path can read it with the AWS CLI
// and nothing has to be created before the first deploy:
//
//	/stevedore/<app>/<env>/releases/000042   one JSON Record per deploy
//	/stevedore/<app>/<env>/lock              the lease of the deploy in progress
package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Status of a recorded deploy.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Record is one deploy of an environment.
type Record struct {
	// Seq numbers the environment's deploys from 1; set by Store.Put.
	Seq int `json:"seq"`
	// Status is Succeeded or Failed.
	Status string `json:"status"`
	// Commit is the git commit the images were built from.
	Commit string `json:"commit"`
	// Images maps each service to its digest-pinned reference.
	Images map[string]string `json:"images"`
	// Frontend is the content hash of the uploaded site ("" without one).
	Frontend string `json:"frontend,omitempty"`
	// Stacks are the CloudFormation stacks of the environment.
	Stacks []string `json:"stacks,omitempty"`
	// Migrated says the deploy ran the migration (it is not reversed by a
	// rollback).
	Migrated bool `json:"migrated,omitempty"`
	// At is when the deploy finished.
	At time.Time `json:"at"`
	// By is the caller identity (the ARN STS returned).
	By string `json:"by"`
	// PlanID is the reviewed plan the deploy executed, if any.
	PlanID string `json:"planId,omitempty"`
	// From names the source of a promote or rollback, e.g. "staging#12".
	From string `json:"from,omitempty"`
}

// API is the part of the SSM client the store uses.
type API interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, opts ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, opts ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// Store reads and writes the records and the lock of one environment.
type Store struct {
	api      API
	app, env string
	// Keep is how many records are kept; older ones are deleted on Put.
	Keep int
	// Now is the clock (tests set it).
	Now func() time.Time
}

// NewStore returns the store of app's environment env.
func NewStore(api API, app, env string) *Store {
	return &Store{api: api, app: app, env: env, Keep: 50, Now: time.Now}
}

// Path is the parameter path prefix of the environment.
func (s *Store) Path() string { return "/stevedore/" + s.app + "/" + s.env }

func (s *Store) releasesPath() string { return s.Path() + "/releases" }

// History returns up to n records, newest first (all when n <= 0).
func (s *Store) History(ctx context.Context, n int) ([]Record, error) {
	var out []Record
	p := ssm.NewGetParametersByPathPaginator(s.api, &ssm.GetParametersByPathInput{Path: aws.String(s.releasesPath())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the release history of %s (ssm:GetParametersByPath on %s): %w", s.env, s.releasesPath(), err)
		}
		for _, prm := range page.Parameters {
			var r Record
			if err := json.Unmarshal([]byte(aws.ToString(prm.Value)), &r); err != nil {
				return nil, fmt.Errorf("release record %s is not valid JSON: %w", aws.ToString(prm.Name), err)
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return b.Seq - a.Seq })
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// Current is the newest succeeded record, and whether there is one.
func (s *Store) Current(ctx context.Context) (Record, bool, error) {
	h, err := s.History(ctx, 0)
	if err != nil {
		return Record{}, false, err
	}
	for _, r := range h {
		if r.Status == Succeeded {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}

// Find returns the record a user names: its sequence number ("12", "#12")
// or a prefix of at least 7 characters of its commit.
func (s *Store) Find(ctx context.Context, ref string) (Record, error) {
	h, err := s.History(ctx, 0)
	if err != nil {
		return Record{}, err
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(ref, "#")); err == nil {
		for _, r := range h {
			if r.Seq == n {
				return r, nil
			}
		}
		return Record{}, fmt.Errorf("%s has no release #%d: history --env %s lists them", s.env, n, s.env)
	}
	if len(ref) < 7 {
		return Record{}, fmt.Errorf("release %q: name a release number (e.g. 12) or at least 7 characters of its commit", ref)
	}
	for _, r := range h {
		if strings.HasPrefix(r.Commit, ref) && r.Status == Succeeded {
			return r, nil
		}
	}
	return Record{}, fmt.Errorf("%s has no succeeded release of commit %s: history --env %s lists them", s.env, ref, s.env)
}

// Put stores r as the next record of the environment and returns it with
// its sequence number; records past Keep are deleted.
func (s *Store) Put(ctx context.Context, r Record) (Record, error) {
	if r.Status != Succeeded && r.Status != Failed {
		return Record{}, fmt.Errorf("internal: release status %q", r.Status)
	}
	h, err := s.History(ctx, 0)
	if err != nil {
		return Record{}, err
	}
	r.Seq = 1
	if len(h) > 0 {
		r.Seq = h[0].Seq + 1
	}
	if r.At.IsZero() {
		r.At = s.Now().UTC()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	name := fmt.Sprintf("%s/%06d", s.releasesPath(), r.Seq)
	if _, err := s.api.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(string(b)), Type: ssmtypes.ParameterTypeString,
		Tier: ssmtypes.ParameterTierIntelligentTiering, Overwrite: aws.Bool(false),
		Description: aws.String("stevedore release record"),
	}); err != nil {
		return Record{}, fmt.Errorf("recording release #%d of %s (ssm:PutParameter on %s): %w", r.Seq, s.env, name, err)
	}
	if s.Keep > 0 && len(h)+1 > s.Keep {
		for _, old := range h[s.Keep-1:] {
			// Best effort: a record left behind only lengthens the history.
			_, _ = s.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(fmt.Sprintf("%s/%06d", s.releasesPath(), old.Seq))})
		}
	}
	return r, nil
}

// notFound reports whether err is SSM's ParameterNotFound.
func notFound(err error) bool {
	var nf *ssmtypes.ParameterNotFound
	return errors.As(err, &nf)
}
