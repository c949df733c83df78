package builtin

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognitoidentitypool"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Resource is one rendered data resource; exactly the field of its type is set.
type Resource struct {
	Plan         appspec.PlanResource
	Postgres     awsrds.DatabaseInstance
	Redis        awselasticache.CfnReplicationGroup
	Table        awsdynamodb.Table
	UserPool     awscognito.UserPool
	Client       awscognito.UserPoolClient
	IdentityPool awscognitoidentitypool.IdentityPool
	Bucket       awss3.Bucket
}

// newResource renders a postgres, redis, dynamodb, cognito or bucket
// resource directly under its stack with the resource's construct id, so
// a description can adopt an existing stack's logical IDs (id:).
func newResource(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource, net *Network) *Resource {
	out := &Resource{Plan: r}
	switch r.Type {
	case appspec.TypePostgres:
		out.Postgres = newPostgres(stack, plan, r, net)
	case appspec.TypeRedis:
		out.Redis = newRedis(stack, plan, r, net)
	case appspec.TypeDynamoDB:
		out.Table = newTable(stack, plan, r)
	case appspec.TypeCognito:
		out.UserPool, out.Client, out.IdentityPool = newCognito(stack, plan, r)
	case appspec.TypeBucket:
		out.Bucket = awss3.NewBucket(stack, &r.ID, &awss3.BucketProps{
			BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
			Encryption:        awss3.BucketEncryption_S3_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			Versioned:         jsii.Bool(r.Bucket.Versioned),
			ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
			RemovalPolicy:     removal(plan.Removal),
			AutoDeleteObjects: jsii.Bool(plan.Removal == appspec.RemovalDestroy),
		})
		output(stack, r.ID+"BucketName", out.Bucket.BucketName(), "bucket "+r.Name)
	}
	return out
}

// newPostgres creates the RDS instance in the isolated subnets, encrypted,
// with generated credentials in Secrets Manager and, when the extensions
// include vector, pgvector preloaded. The extensions themselves are
// enabled by the app's migration (CREATE EXTENSION IF NOT EXISTS ...);
// their names are an output so the migration can check them.
func newPostgres(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource, net *Network) awsrds.DatabaseInstance {
	pg := r.Postgres
	engine := awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{
		Version: awsrds.PostgresEngineVersion_Of(&pg.Version, &pg.Version, nil),
	})
	props := &awsrds.DatabaseInstanceProps{
		Engine:                 engine,
		InstanceType:           awsec2.NewInstanceType(&pg.InstanceClass),
		Vpc:                    net.Vpc,
		VpcSubnets:             subnets(IsolatedSubnets),
		SecurityGroups:         &[]awsec2.ISecurityGroup{net.Resources[r.Name]},
		Credentials:            awsrds.Credentials_FromGeneratedSecret(&pg.Username, nil),
		DatabaseName:           &pg.Database,
		AllocatedStorage:       jsii.Number(float64(pg.Storage)),
		MaxAllocatedStorage:    jsii.Number(float64(pg.MaxStorage)),
		StorageEncrypted:       jsii.Bool(true),
		MultiAz:                pg.MultiAz,
		BackupRetention:        awscdk.Duration_Days(jsii.Number(float64(pg.BackupDays))),
		DeleteAutomatedBackups: jsii.Bool(plan.DataRemoval == appspec.RemovalDestroy),
		DeletionProtection:     jsii.Bool(plan.DeletionProtection),
		RemovalPolicy:          removal(plan.DataRemoval),
		PubliclyAccessible:     jsii.Bool(false),
	}
	for _, e := range pg.Extensions {
		if e == "vector" {
			props.ParameterGroup = awsrds.NewParameterGroup(stack, jsii.String(r.ID+"ParameterGroup"), &awsrds.ParameterGroupProps{
				Engine:      engine,
				Description: jsii.String(fmt.Sprintf("%s PostgreSQL %s with pgvector", plan.App, pg.Version)),
				Parameters:  &map[string]*string{"shared_preload_libraries": jsii.String("vector")},
			})
		}
	}
	db := awsrds.NewDatabaseInstance(stack, &r.ID, props)
	suppress(db, reasonDefaultPort, "AwsSolutions-RDS11")
	suppress(db, reasonRotation, "AwsSolutions-SMG4")
	if !*pg.MultiAz {
		suppress(db, reasonSingleAZ, "AwsSolutions-RDS3")
	}
	if !plan.DeletionProtection {
		suppress(db, reasonNoProtection, "AwsSolutions-RDS10")
	}
	output(stack, r.ID+"Endpoint", db.DbInstanceEndpointAddress(), r.Name+" endpoint")
	output(stack, r.ID+"SecretArn", db.Secret().SecretArn(), r.Name+" credentials secret")
	if len(pg.Extensions) > 0 {
		output(stack, r.ID+"Extensions", jsii.String(strings.Join(pg.Extensions, ",")), "extensions the migration enables with CREATE EXTENSION")
	}
	return db
}

// newRedis creates a replication group in the private subnets, encrypted
// at rest, in transit with tls (clients use rediss://), with failover and
// Multi-AZ when it has more than one node.
func newRedis(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource, net *Network) awselasticache.CfnReplicationGroup {
	rd := r.Redis
	c := constructs.NewConstruct(stack, &r.ID)
	var subnetIDs []interface{}
	for _, id := range *net.Vpc.SelectSubnets(subnets(PrivateSubnets)).SubnetIds {
		subnetIDs = append(subnetIDs, id)
	}
	description := fmt.Sprintf("%s %s %s", plan.App, r.Name, plan.Env.Name)
	group := awselasticache.NewCfnSubnetGroup(c, jsii.String("SubnetGroup"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String(description + " subnets"),
		SubnetIds:   &subnetIDs,
	})
	replicated := rd.Nodes > 1
	redis := awselasticache.NewCfnReplicationGroup(c, jsii.String("ReplicationGroup"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: &description,
		Engine:                      jsii.String("redis"),
		EngineVersion:               &rd.Version,
		CacheNodeType:               &rd.NodeType,
		NumCacheClusters:            jsii.Number(float64(rd.Nodes)),
		AutomaticFailoverEnabled:    &replicated,
		MultiAzEnabled:              &replicated,
		CacheSubnetGroupName:        group.Ref(),
		SecurityGroupIds:            &[]*string{net.Resources[r.Name].SecurityGroupId()},
		AtRestEncryptionEnabled:     jsii.Bool(true),
		TransitEncryptionEnabled:    rd.Tls,
		SnapshotRetentionLimit:      jsii.Number(float64(*rd.SnapshotDays)),
	})
	redis.ApplyRemovalPolicy(removal(plan.DataRemoval), nil)
	suppress(redis, reasonDefaultPort, "AwsSolutions-AEC5")
	suppress(redis, reasonRedisAuth, "AwsSolutions-AEC6")
	if !*rd.Tls {
		suppress(redis, reasonRedisNoTLS, "AwsSolutions-AEC3")
	}
	output(stack, r.ID+"Endpoint", redis.AttrPrimaryEndPointAddress(), r.Name+" primary endpoint")
	return redis
}

// newTable creates an on-demand table with TTL and point-in-time recovery.
func newTable(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource) awsdynamodb.Table {
	d := r.DynamoDB
	props := &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: &d.PartitionKey, Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: d.PointInTimeRecovery,
		},
		DeletionProtection: jsii.Bool(plan.DeletionProtection),
		RemovalPolicy:      removal(plan.Removal),
	}
	if d.SortKey != "" {
		props.SortKey = &awsdynamodb.Attribute{Name: &d.SortKey, Type: awsdynamodb.AttributeType_STRING}
	}
	if d.TTL != "" {
		props.TimeToLiveAttribute = &d.TTL
	}
	table := awsdynamodb.NewTable(stack, &r.ID, props)
	output(stack, r.ID+"TableName", table.TableName(), "DynamoDB table "+r.Name)
	return table
}

// newCognito creates the user pool (password policy: the minimum length,
// lower, upper, digits and symbols, temporary passwords valid 3 days;
// threat protection enforced on the Plus plan), an SRP app client and,
// unless turned off, an identity pool for its users.
func newCognito(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource) (awscognito.UserPool, awscognito.UserPoolClient, awscognitoidentitypool.IdentityPool) {
	c := r.Cognito
	props := &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(c.SelfSignUp),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(float64(c.PasswordLength)),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		DeletionProtection: jsii.Bool(plan.DeletionProtection),
		RemovalPolicy:      removal(plan.Removal),
	}
	if *c.ThreatProtection {
		props.FeaturePlan = awscognito.FeaturePlan_PLUS
		props.StandardThreatProtectionMode = awscognito.StandardThreatProtectionMode_FULL_FUNCTION
	}
	pool := awscognito.NewUserPool(stack, &r.ID, props)
	suppress(pool, reasonMfa, "AwsSolutions-COG2")
	client := pool.AddClient(jsii.String("Client"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
		// No hosted UI or callback URL is known here: tokens come from the SRP flow.
		DisableOAuth: jsii.Bool(true),
	})
	output(stack, r.ID+"Id", pool.UserPoolId(), "Cognito user pool "+r.Name)
	output(stack, r.ID+"ClientId", client.UserPoolClientId(), "Cognito app client of "+r.Name)
	var identity awscognitoidentitypool.IdentityPool
	if *c.IdentityPool {
		idID := "IdentityPool"
		if r.ID != "UserPool" {
			idID = r.ID + "IdentityPool"
		}
		identity = awscognitoidentitypool.NewIdentityPool(stack, &idID, &awscognitoidentitypool.IdentityPoolProps{
			AllowUnauthenticatedIdentities: jsii.Bool(false),
			AuthenticationProviders: &awscognitoidentitypool.IdentityPoolAuthenticationProviders{
				UserPools: &[]awscognitoidentitypool.IUserPoolAuthenticationProvider{
					awscognitoidentitypool.NewUserPoolAuthenticationProvider(&awscognitoidentitypool.UserPoolAuthenticationProviderProps{
						UserPool: pool, UserPoolClient: client,
					}),
				},
			},
		})
		output(stack, idID+"Id", identity.IdentityPoolId(), "Cognito identity pool of "+r.Name)
	}
	return pool, client, identity
}

// connect grants a service's task role least privilege on the resource and
// returns the variables and secrets that tell it how to connect (ECS
// grants the execution role read access to the secrets it injects).
func (r *Resource) connect(taskRole awsiam.IRole) (map[string]*string, map[string]awsecs.Secret) {
	p := r.Plan.EnvPrefix
	env := map[string]*string{}
	secrets := map[string]awsecs.Secret{}
	switch {
	case r.Postgres != nil:
		pg := r.Plan.Postgres
		env[p+"DB_HOST"] = r.Postgres.DbInstanceEndpointAddress()
		env[p+"DB_PORT"] = r.Postgres.DbInstanceEndpointPort()
		env[p+"DB_NAME"] = &pg.Database
		env[p+"DB_USER"] = &pg.Username
		if len(pg.Extensions) > 0 {
			// The migration enables them with CREATE EXTENSION IF NOT EXISTS.
			env[p+"DB_EXTENSIONS"] = jsii.String(strings.Join(pg.Extensions, ","))
		}
		// The password reaches the container only as a secret (read by the execution role).
		secrets[p+"DB_PASSWORD"] = awsecs.Secret_FromSecretsManager(r.Postgres.Secret(), jsii.String("password"))
	case r.Redis != nil:
		scheme := "redis"
		if *r.Plan.Redis.Tls {
			scheme = "rediss"
		}
		env[p+"REDIS_HOST"] = r.Redis.AttrPrimaryEndPointAddress()
		env[p+"REDIS_PORT"] = r.Redis.AttrPrimaryEndPointPort()
		env[p+"REDIS_URL"] = jsii.String(fmt.Sprintf("%s://%s:%s/0", scheme, *r.Redis.AttrPrimaryEndPointAddress(), *r.Redis.AttrPrimaryEndPointPort()))
	case r.Table != nil:
		env[p+"DYNAMODB_TABLE"] = r.Table.TableName()
		r.Table.GrantReadWriteData(taskRole)
	case r.UserPool != nil:
		env[p+"USER_POOL_ID"] = r.UserPool.UserPoolId()
		env[p+"USER_POOL_CLIENT_ID"] = r.Client.UserPoolClientId()
		if r.IdentityPool != nil {
			env[p+"IDENTITY_POOL_ID"] = r.IdentityPool.IdentityPoolId()
		}
	case r.Bucket != nil:
		env[p+"BUCKET_NAME"] = r.Bucket.BucketName()
		r.Bucket.GrantReadWrite(taskRole, nil)
	}
	return env, secrets
}
