// Package s3site publishes a built static site (a Next.js or Vite export) to
// a private S3 bucket behind CloudFront, touching only what changed.
//
// Where the commander.ai guide re-uploads every file and invalidates /*,
// Publish compares each local file with the bucket by content hash, uploads
// only new or changed files (assets first, HTML last, so a new page never
// references a missing asset), deletes gone files when asked, and invalidates
// only the changed paths.
//
// How "unchanged" is decided: ListObjectsV2 gives each object's size. A file
// whose key is absent, or whose size differs, is uploaded without further
// requests. For a same-size object, HeadObject is read: the content is the
// same when the x-amz-meta-sha256 metadata (written by Publish) equals the
// local SHA-256, or, for objects without it, when a single-part ETag equals
// the local MD5. The object is also re-uploaded when its stored Content-Type
// or Cache-Control differs from what the rules now give, so a rule change
// reaches objects whose bytes did not change.
//
// Permissions used: s3:ListBucket on the bucket; s3:GetObject (HeadObject),
// s3:PutObject and, with Delete, s3:DeleteObject on its objects;
// cloudfront:CreateInvalidation and, with WaitInvalidation,
// cloudfront:GetInvalidation on the distribution.
package s3site
