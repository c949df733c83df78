// Package ocipush moves container images between a local OCI image layout
// (the tarball Dagger's Container.AsTarball writes) and any OCI registry:
// Amazon ECR, a registry:2 service bound into a container, or a test
// registry.
//
// Push uploads a layout and tags it, skipping everything the registry
// already holds, and reports the digest-pinned reference later deploy steps
// use. Pull fetches an image back into a tarball Container.Import can load.
// Credentials are only ever sent to the registry: errors and log lines never
// contain the password.
package ocipush
