package awstarget

import (
	"context"
	"errors"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// registryHost is the override or the account's ECR registry (read-only:
// GetAuthorizationToken).
func (t *Target) registryHost(ctx context.Context) (string, error) {
	if t.RegistryHost != "" {
		return t.RegistryHost, nil
	}
	t.hostOnce.Do(func() {
		reg, err := ecr.New(t.AWS).Login(ctx)
		t.host, t.hostErr = reg.Host, err
	})
	return t.host, t.hostErr
}

// Push pushes the service image; in a dry run it only computes the digest
// and asks ECR whether it already has it.
func (t *Target) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	if !t.DryRun {
		img, o, err := t.Images.Push(ctx, service)
		if err != nil {
			return img, o, err
		}
		if _, err := contract.ParseImage(img.Ref); err != nil {
			return deploy.Image{}, steps.Outcome{}, err
		}
		return img, o, nil
	}
	return t.planPush(ctx, service)
}

// planPush computes the digest and looks it up in ECR.
func (t *Target) planPush(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	s, err := t.service(service)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	digest, err := t.Images.Digest(ctx, service)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	host, err := t.registryHost(ctx)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	ref, err := contract.ParseImage(host + "/" + s.Repository + "@" + digest)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	_, found, err := ecr.New(t.AWS).FindImage(ctx, s.Repository, digest)
	summary := "would push " + digest
	switch {
	case errors.Is(err, ecr.ErrRepositoryNotFound):
		summary = "would create repository " + s.Repository + " and push " + digest
	case err != nil:
		return deploy.Image{}, steps.Outcome{}, err
	case found:
		summary = "already in ECR, would skip the push"
	}
	return deploy.Image{Service: s.Name, Ref: ref.String()}, steps.Outcome{Summary: summary, Artifacts: []steps.Artifact{{Kind: steps.KindDigest, Name: s.Name, Value: digest}}}, nil
}
