// Package fakeaws is one fake AWS for tests: a small stateful simulator of
// the services stevedore calls, behind a single httptest endpoint, so a
// test drives the real AWS SDK v2 clients (serializers, retryer, error
// decoding) against it and asserts on what happened.
//
//	a := fakeaws.New(t)                        // stops when the test ends
//	cfg := a.Config()                          // aws.Config aimed at a.URL
//	a.SeedService("prod", "api", map[string]string{"api": "repo/api@sha256:…"})
//	... run the code under test with cfg ...
//	a.Ops()      // ["ecs:DescribeServices", "ecs:RegisterTaskDefinition", …] in order
//	a.Mutating() // what was not a Describe/List/Get/Head: empty for a dry run
//
// Tests outside pipelines/ (the integration tests, which run the real CDK
// CLI against it) reach it through pipelines/fakeaws.
//
// The exported API (New, the With* options, Config, Calls/Ops/CallsTo/
// Mutating/ResetCalls, Fail and the Fault values, the Seed*/Put*/Create*
// helpers and the state readers) is stable: other branches build on it.
//
// # Routing
//
// Every SDK client given the same BaseEndpoint reaches the one server. A
// request is routed by the service name in its SigV4 credential scope
// (".../<region>/<service>/aws4_request"); unsigned /v2/ requests go to the
// container registry. JSON services (ECR, ECS, SSM, Secrets Manager, Logs,
// DynamoDB) share one JSON-protocol layer keyed by X-Amz-Target; query
// services (CloudFormation, STS) share one form/XML layer; S3 and
// CloudFront speak REST-XML. An operation the fake does not simulate fails
// the test (t.Errorf) and answers NotImplemented, so a gap never passes
// for success.
//
// # What each service supports
//
//   - STS: GetCallerIdentity (WithAccount, WithCallerARN), AssumeRole of
//     any role ARN (fixed temporary credentials, valid an hour on the
//     caller's clock: the CDK CLI assumes the bootstrap roles).
//   - ECR: CreateRepository, DescribeRepositories, PutLifecyclePolicy,
//     GetLifecyclePolicy, PutImageTagMutability, GetAuthorizationToken,
//     DescribeImages, BatchGetImage, PutImage, DescribeImageScanFindings
//     (always COMPLETE, no findings). Repository URIs are a.Host/<name>.
//   - Registry: the OCI distribution API on the same host, with ECR's auth
//     (basic, user AWS, a password GetAuthorizationToken issued) and ECR's
//     rules: a push to a repository not created through the API is
//     NAME_UNKNOWN, an immutable tag cannot move. Pushed manifests show in
//     DescribeImages/BatchGetImage, and PutImage tags are seen by the
//     registry. ocipush.Push works against it unchanged.
//   - ECS: CreateCluster, DescribeClusters, RegisterTaskDefinition (tags
//     kept), DescribeTaskDefinition (include TAGS), ListTaskDefinitions
//     (familyPrefix, status, sort), DeregisterTaskDefinition, TagResource,
//     ListTagsForResource, CreateService, UpdateService, DeleteService,
//     DescribeServices, ListServices, RunTask, DescribeTasks, ListTasks
//     (family, serviceName, startedBy, desiredStatus), StopTask,
//     ListServiceDeployments, DescribeServiceDeployments and
//     DescribeServiceRevisions (each deployment is a service deployment of
//     a service revision; a circuit-breaker rollback stays part of the
//     service deployment it undoes, ending ROLLBACK_SUCCESSFUL, and the
//     service's currentServiceDeployment names the latest). Services
//     have deployments as ECS shows them: UpdateService with a new revision
//     (or forceNewDeployment) adds a PRIMARY IN_PROGRESS deployment, the
//     old one turns ACTIVE; after WithSettlePolls DescribeServices calls
//     (default 2) it is COMPLETED and the old one drained, with the events
//     "(deployment …) deployment completed." and "has reached a steady
//     state." (newest first). A one-off task of a bad image (see below)
//     stops with the image's reason and no exit code.
//     ListServiceDeployments filters by status and createdAt (bounds
//     inclusive, to the millisecond the SDK sends; on the fake clock:
//     take Since from Now, or use WithWallClock), newest first. StopServiceDeployment
//     (ROLLBACK, the default, or ABORT) and ContinueServiceDeployment:
//     see "Deployment strategies" below.
//   - ELBv2 (signing name elasticloadbalancing; query protocol, XML
//     answers as the SDK's elasticloadbalancingv2 client parses them):
//     DescribeRules (RuleArns, or ListenerArn) and ModifyRule (Conditions
//     and Actions replace the rule's; an http-header condition needs a
//     header name and values, else ValidationError; an unknown rule is
//     RuleNotFound), on the listener rules the template applier created.
//   - CloudFormation: CreateChangeSet (CREATE puts a new stack in
//     REVIEW_IN_PROGRESS; TemplateBody, or TemplateURL read from the fake
//     S3), DescribeChangeSet (Add/Modify/Remove with Replacement and
//     Details, "didn't contain changes" as FAILED), ExecuteChangeSet,
//     DeleteChangeSet, ListChangeSets, CreateStack, UpdateStack,
//     DescribeStacks (Outputs, Parameters: an SSM-typed one shows the
//     SSM name with its ResolvedValue, and UsePreviousValue reuses the
//     name), DescribeStackEvents,
//     DescribeStackResources, ListStackResources, GetTemplate,
//     DeleteStack, ListStacks. Executing a change set applies
//     its template (see below); the stack stays *_IN_PROGRESS until the ECS
//     services it changed settle, then is *_COMPLETE, or, when one of them
//     failed, UPDATE_ROLLBACK_COMPLETE (ROLLBACK_COMPLETE on a create) with
//     an UPDATE_FAILED event for the service ("ECS Deployment Circuit
//     Breaker was triggered") and the previous template and outputs back.
//     A stack poll (DescribeStacks, DescribeStackEvents) moves a service's
//     deployment on only while no DescribeServices poll has: once a
//     follower polls the service, its polls alone drive that deployment,
//     so it sees every state, and the stack settles with it.
//   - S3: HeadBucket (301 with the region after MoveBucket),
//     GetBucketLocation, GetBucketEncryption (AES256, S3's default),
//     ListObjectsV2 (paged by WithS3PageSize), HeadObject, GetObject,
//     PutObject (metadata, Content-Type, Cache-Control), DeleteObjects
//     (per-key AccessDenied after DenyDelete); path-style or
//     virtual-hosted.
//   - CloudFront: CreateInvalidation, GetInvalidation (InProgress for
//     WithInvalidationPolls polls, then Completed).
//   - SSM: GetParameter, GetParameters, PutParameter (Overwrite),
//     GetParametersByPath (Recursive), DeleteParameter.
//   - Secrets Manager: CreateSecret, DescribeSecret, GetSecretValue,
//     ListSecrets; SecretId by name, ARN or partial ARN.
//   - CloudWatch Logs: GetLogEvents, FilterLogEvents (substring pattern,
//     time range, stream names) over lines seeded with LogLines.
//   - DynamoDB: CreateTable, PutItem, GetItem, DeleteItem with the
//     ConditionExpression a lock needs (attribute_exists,
//     attribute_not_exists, = and <>, joined by AND).
//
// # The template applier
//
// Three ways run a template: ExecuteChangeSet through the SDK;
// ApplyTemplate, which does what `cdk deploy` does (change set, execute)
// and passes time itself until the stack has settled, returning `cdk
// deploy`'s error for a rolled-back stack; and StartTemplate, which
// returns once applied, for a test where stevedore follows the services
// while a fake CDK runner waits with WaitStack (which moves nothing on).
// ApplyTemplate and StartTemplate record the CloudFormation calls the CDK
// CLI makes (CreateChangeSet, then ExecuteChangeSet, or DeleteChangeSet
// when nothing changed), so the call log orders a deploy against other
// calls, and Fail on those operations makes the deploy fail.
// Applying resolves the template's
// parameters (defaults, given values, SSM-typed ones such as the CDK's
// BootstrapVersion from the fake SSM), checks its Rules, and evaluates Ref,
// Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue,
// Fn::If, Fn::FindInMap, Fn::Base64, Fn::GetAZs and the pseudo parameters.
// Resources are applied in dependency order and only when their resolved
// properties changed, so a re-run of the same template registers nothing:
//
//   - AWS::ECS::Cluster creates the cluster (Ref = name).
//   - AWS::ECS::TaskDefinition registers a revision, PascalCase properties
//     turned into the API's camelCase (Ref = task definition ARN).
//   - AWS::ECS::Service creates the service, or updates it when its
//     properties changed; a new task definition starts a deployment
//     exactly as UpdateService does (Ref = service ARN as in real
//     CloudFormation; Fn::GetAtt Name = service name). Removed services are
//     deleted.
//   - AWS::S3::Bucket, AWS::CloudFront::Distribution, AWS::SSM::Parameter
//     and AWS::SecretsManager::Secret create the bucket, distribution,
//     parameter and secret in the fake; load balancers get a DNSName.
//   - AWS::ElasticLoadBalancingV2::Listener and ::TargetGroup get ARNs as
//     physical IDs (a listener's derived from its LoadBalancerArn).
//   - AWS::ElasticLoadBalancingV2::ListenerRule creates a listener rule
//     (Ref = its ARN, derived from ListenerArn; Fn::GetAtt RuleArn) with
//     the template's Priority, Conditions and Actions, which DescribeRules
//     shows and ModifyRule changes. A {{resolve:secretsmanager:…}} value
//     stays as written (it matches no real header). A re-run of the same
//     template leaves a ModifyRule'd rule alone, as CloudFormation does;
//     a changed rule gets the template's conditions back.
//     Other types only get a generated physical ID.
//
// Outputs are resolved into the stack's Outputs. In DescribeChangeSet a
// change of a property that forces replacement (any change of a task
// definition; names and keys of databases, tables, user pools, buckets,
// caches and secrets) shows Replacement True, a resource that refers to a
// replaced one a Dynamic detail; a removed resource shows Action Remove.
//
// # Scripting a scenario
//
//   - Bad image: a.BadImage(image, reason). A deployment whose task
//     definition runs it FAILS after the settle polls ("ECS deployment
//     circuit breaker: tasks failed to start."), two STOPPED tasks carry
//     reason as stoppedReason, and with the circuit breaker's rollback on
//     a rollback deployment of the last COMPLETED revision becomes PRIMARY
//     ("…rolling back to deploymentId <that deployment>.") and completes
//     after the settle polls; with the rollback off CloudFormation puts
//     the old task definition back when the stack rolls back. Without the
//     circuit
//     breaker (ECS's default for CreateService; SeedService and most CDK
//     apps turn it on) the deployment never ends: it stays IN_PROGRESS
//     while failed tasks pile up, and so does the stack.
//   - Migration exit code: a.ExitCode("alembic upgrade head", 3). A
//     RunTask whose container command override (or task definition
//     command, or first image) matches exits with that code; others exit
//     0. A task is RUNNING at its first DescribeTasks and STOPPED after
//     the settle polls.
//   - Faults: a.Fail("DescribeServices", fakeaws.Throttling, 2) answers the
//     next 2 calls of the operation with the fault (use "ecs:Op" to pick a
//     service). Throttling, ServerError, AccessDenied and Validation(msg)
//     are ready-made; the SDK retries the first two up to 3 attempts in
//     all, so 2 are absorbed and 3 surface. Registry operations fail the
//     same way ("registry:PutManifest", "registry:PutBlob", …).
//   - Starting state: SeedService (a steady service with one COMPLETED
//     deployment), SeedStack (a stack with outputs and a status),
//     ApplyTemplate (a stack deployed from a template, services included),
//     CreateRepository, CreateBucket/PutObject, CreateDistribution,
//     PutParameter (e.g. "/cdk-bootstrap/hnb659fds/version" = "21"),
//     PutSecret, LogLines, CreateTable.
//   - Deployment strategies: FireAlarm, FailRollback, StopDeployment,
//     Redeploy, Advance (see below); the front's SetRevisionHandler.
//   - Reading the outcome: Calls, Ops, CallsTo, Mutating, Service,
//     TaskDefinitions, StackStatus (moves nothing on), WaitStack, Images,
//     Objects, Invalidations, Parameter, Item, Rule, Now.
//
// # Deployment strategies
//
// A service whose DeploymentConfiguration.Strategy (CreateService and
// UpdateService input, or the template's AWS::ECS::Service property) is
// BLUE_GREEN, LINEAR or CANARY deploys each new revision after its first
// (the one CreateService starts completes as a rolling one does) as a
// service deployment that is PENDING until its first poll, then moves one
// lifecycle stage per poll: RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP,
// POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT,
// PRODUCTION_TRAFFIC_SHIFT (LINEAR: once per LinearConfiguration.
// StepPercent step, default 10; CANARY: CanaryConfiguration.CanaryPercent,
// default 5, then 100), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME,
// CLEAN_UP, then SUCCESSFUL (the service then steady on the new task
// definition alone, with the rolling events). Bake times are not waited
// for: a stage is a poll. TargetServiceRevision shows
// RequestedTestTrafficWeight 100 from TEST_TRAFFIC_SHIFT and
// RequestedProductionTrafficWeight as shifted (0 during a rollback), the
// source revision the rest.
//
// A poll is a DescribeServiceDeployments of that deployment; once one has
// come, only those polls move it. Before that DescribeServices polls move
// it from the second on (a rolling follower on such a service still sees
// it end; one look, such as an already-on check, moves nothing). Unlike a
// rolling one, stack polls (DescribeStacks, a CDK CLI waiting) never move
// it, so its follower sees every stage however the two interleave; with
// no follower, the stack waits (StartTemplate) or ApplyTemplate passes
// time itself, a PAUSE hook included (it times out).
//
// DeploymentConfiguration.LifecycleHooks (CloudFormation's LifecycleHooks
// property, e.g. set with addPropertyOverride) with TargetType PAUSE stop
// the deployment at their stage: LifecycleHookDetails shows {HookId
// "ecs-pause-…", TargetType PAUSE, Status AWAITING_ACTION, TimeoutAction
// (TimeoutConfiguration.Action, default ROLLBACK), ExpiresAt (the fake
// clock at the pause plus TimeoutInMinutes, default 60), LifecycleStages}
// until ContinueServiceDeployment {HookId, Action CONTINUE (the default):
// hook SUCCEEDED, the next poll moves on | ROLLBACK: hook FAILED}. An
// unknown hook ID is InvalidParameterException, a hook not waiting or a
// deployment not IN_PROGRESS ConflictException, an unknown deployment
// ServiceDeploymentNotFoundException. Once the fake clock passes
// ExpiresAt (Advance), the next poll sets the hook TIMED_OUT and takes
// its timeout action. A PAUSE hook at TEST_TRAFFIC_SHIFT or
// PRODUCTION_TRAFFIC_SHIFT is refused (InvalidParameterException); other
// hook targets (AWS_LAMBDA) are not run: they succeed.
//
// A rollback (ContinueServiceDeployment ROLLBACK, StopServiceDeployment
// ROLLBACK, a timeout, an alarm) is ROLLBACK_IN_PROGRESS with Rollback
// {Reason, ServiceRevisionArn = the source revision, StartedAt}, the
// service's task definition the previous one at once and its traffic
// back on it; after the settle polls it is ROLLBACK_SUCCESSFUL, the
// service steady on the previous task definition. StopServiceDeployment
// ABORT ends it STOPPED where it stands; stopping a deployment that is not
// PENDING or IN_PROGRESS is ConflictException. A stack waiting for such a
// service completes with SUCCESSFUL and rolls back (UPDATE_ROLLBACK_COMPLETE)
// with ROLLBACK_*, STOPPED.
//
// A bad image (BadImage) stops such a deployment at SCALE_UP: two
// stopped tasks per poll, and with the circuit breaker's rollback on a
// rollback ("ECS deployment circuit breaker: tasks failed to start.",
// DeploymentCircuitBreaker TRIGGERED); without it, it stays there.
//
// Scenarios: a.FireAlarm(alarm, "BAKE_TIME") fires a CloudWatch alarm
// once when a deployment that monitors it (Alarms {AlarmNames, Enable,
// Rollback}) is at that stage: it rolls back, Alarms shows it in
// TriggeredAlarmNames (status TRIGGERED) and Rollback.Reason names it.
// FireAlarm(alarm, "") also reaches a rolling deployment that monitors
// it, at its next DescribeServices poll: it FAILS and rolls back to the
// last completed deployment (ROLLBACK_SUCCESSFUL after the settle polls).
// a.FailRollback(cluster, service, reason) ends the service's next
// rollback ROLLBACK_FAILED with reason as StatusReason.
// a.StopDeployment(cluster, service, "ROLLBACK"|"ABORT") is someone else
// stopping the deployment in flight, and a.Redeploy(cluster, service)
// someone else's forceNewDeployment replacing it (it ends STOPPED, "…a
// newer deployment replaced it."); neither is recorded as a call.
// a.Advance(d) moves the fake clock (a hook's timeout); a.Now() reads it.
//
// # The load balancer front
//
// a.LoadBalancerURL() is a second HTTP server that answers as the
// services behind the listener rules would. A request goes to the first
// rule, by priority, whose conditions all match (http-header values
// case-insensitively with * and ? wildcards, path-pattern, and
// host-header only when the request's Host is a name: a request to the
// front's own address matches every host, and a test picks a service by
// setting req.Host) and belongs to a service
// (LoadBalancers[].AdvancedConfiguration ProductionListenerRule or
// TestListenerRule); with no such rule, to the only service that has load
// balancers, else 503. A test rule routes to the NEW revision while the
// service's deployment is IN_PROGRESS in or past TEST_TRAFFIC_SHIFT; a
// production rule to the serving revision (during a production traffic
// shift a share of requests as the weight says, deterministically: at
// 25%, 25 of every 100). So after ModifyRule sets the test rule's X-Stevedore-Test
// value, a request with that value reaches the new revision and one with
// the old value the serving one. Each revision answers through the
// handler a.SetRevisionHandler(image, h) gave for one of its task
// definition's container images, else 200 "ok" on every path; every
// answer carries RevisionHeader (X-Fakeaws-Task-Definition) with the task
// definition ARN that answered. a.Rule(arn) reads a rule's header
// condition.
//
// Not emulated: bake and step bake times as waits, task-level traffic
// (tasks are counts), target groups and their health checks, Lambda
// hooks, weighted forward actions, rules on listeners' default actions,
// query-string and source-ip conditions in the front, lifecycle stages
// for a service's first deployment.
//
// Times come from a fake clock that starts at 2025-01-02T03:04:05Z (or
// WithStartTime) and moves one second per event, so answers are
// deterministic. Code that judges the fake's timestamps by its own clock
// (ListServiceDeployments' createdAt after a follower's Since, a PAUSE
// hook's ExpiresAt) needs that clock near the fake's: give it a clock set
// from Now, or start the fake WithWallClock (its clock then the
// machine's, events a microsecond apart at least).
package fakeaws
