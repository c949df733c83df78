// Package awsfake opens the project's one fake AWS (pipelines/internal/fakeaws,
// see its package doc) to tests outside pipelines/, such as the integration
// tests that run the real CDK CLI against it. It only names the fake's API;
// it adds nothing.
package awsfake

import "github.com/stevedore-ci/stevedore/pipelines/internal/fakeaws"

// AWS is one fake AWS endpoint (fakeaws.AWS).
type AWS = fakeaws.AWS

// Call is one request the fake answered (fakeaws.Call).
type Call = fakeaws.Call

// Option changes the fake before it starts (fakeaws.Option).
type Option = fakeaws.Option

// StackSeed is a CloudFormation stack to start with (fakeaws.StackSeed).
type StackSeed = fakeaws.StackSeed

// New starts a fake AWS on 127.0.0.1 that stops when the test ends
// (fakeaws.New).
var New = fakeaws.New
