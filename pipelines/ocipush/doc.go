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
//
// # Why not Container.Publish
//
// Dagger's own Container.Publish with WithRegistryAuth (the password as a
// Secret) was measured against this package (bench/pushcmp, a registry with
// ECR-style basic auth on loopback): it is as fast or faster (no tarball
// export) and moves the same bytes, first push and re-push alike, and its
// digests are stable from one push to the next. stevedore still pushes
// through this package, on every target, because:
//   - a dry run must report the digest a push would create without pushing
//     (LocalDigest); Publish only tells the digest by pushing, and for a
//     multi-platform image its index is not the one AsTarball writes and
//     this package pushes (other JSON layout, manifests in another order,
//     no artifactType), so a plan computed here would not match a push
//     made by Publish;
//   - the local target and with-registry --service push to a registry that
//     is a Dagger service, reachable only from inside a container (Dial);
//     the engine's Publish cannot address it;
//   - Push tells whether anything was uploaded and which tags moved, which
//     the deploy report shows; Publish re-sends the manifest every time.
package ocipush
