package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"dagger/stevedore/internal/dagger"
)

// Registry is an OCI registry images go to instead of Amazon ECR.
type Registry struct {
	// Registry address as it appears in image references, e.g. ghcr.io/acme
	// or localhost:5000.
	Address string
	// +private
	Username string
	// +private
	Password *dagger.Secret
	// +private
	Service *dagger.Service
	// +private
	Insecure bool
}

// Send images to any OCI registry instead of Amazon ECR.
//
// The publish step then makes no AWS call. Use --service to reach a
// registry that runs on your machine or as a Dagger service, e.g.
// --address localhost:5000 --service tcp://localhost:5000.
func (m *Stevedore) WithRegistry(
	// Registry address used in image references, e.g. localhost:5000 or
	// registry.example.com/team.
	address string,
	// Username for basic auth.
	// +optional
	username string,
	// Password or token for basic auth.
	// +optional
	password *dagger.Secret,
	// A service to connect to instead of resolving the address: a Dagger
	// service or a host port (tcp://localhost:5000).
	// +optional
	service *dagger.Service,
	// Speak plain HTTP instead of HTTPS.
	// +optional
	insecure bool,
) (*Stevedore, error) {
	if err := validateRegistryAddress(address); err != nil {
		return nil, err
	}
	if (username == "") != (password == nil) {
		return nil, fmt.Errorf("pass --username and --password together (the password as a secret, e.g. env:REGISTRY_PASSWORD)")
	}
	c := *m
	c.Registry = &Registry{Address: strings.TrimSuffix(address, "/"), Username: username, Password: password, Service: service, Insecure: insecure}
	return &c, nil
}

func validateRegistryAddress(address string) error {
	if address == "" || strings.Contains(address, "://") || strings.ContainsAny(address, " @") {
		return fmt.Errorf("registry address %q must look like host[:port][/namespace], without scheme (e.g. localhost:5000)", address)
	}
	host := strings.SplitN(address, "/", 2)[0]
	if _, err := url.Parse("http://" + host); err != nil {
		return fmt.Errorf("registry address %q: %v", address, err)
	}
	return nil
}

// dialAddress starts the registry's service (if any) and returns the
// host:port to connect to.
func (r *Registry) dialAddress(ctx context.Context) (string, error) {
	if r.Service == nil {
		return "", nil
	}
	svc, err := r.Service.Start(ctx)
	if err != nil {
		return "", failed("starting the registry service", "", err)
	}
	ep, err := svc.Endpoint(ctx)
	if err != nil {
		return "", described("registry service endpoint: "+err.Error(), err)
	}
	return ep, nil
}
