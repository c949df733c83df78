package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// Database identity of the guide.
const (
	dbName = "commander_ai"
	dbUser = "commander"
)

// NewCommanderDatabase creates CommanderDatabaseStack-<env>: PostgreSQL 16
// with pgvector preloaded, in the isolated subnets, encrypted, its
// credentials generated into Secrets Manager.
func NewCommanderDatabase(scope constructs.Construct, s config.Settings, env *awscdk.Environment, net *CommanderNetwork) awsrds.DatabaseInstance {
	stack := newStack(scope, s, "Database", "commander.ai PostgreSQL 16 with pgvector", env)
	engine := awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{Version: awsrds.PostgresEngineVersion_VER_16()})
	params := awsrds.NewParameterGroup(stack, jsii.String("ParameterGroup"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("commander.ai PostgreSQL 16 with pgvector"),
		Parameters:  &map[string]*string{"shared_preload_libraries": jsii.String("vector")},
	})
	db := awsrds.NewDatabaseInstance(stack, jsii.String("Postgres"), &awsrds.DatabaseInstanceProps{
		Engine:                 engine,
		InstanceType:           awsec2.NewInstanceType(&s.Env.DBInstanceType),
		Vpc:                    net.Vpc,
		VpcSubnets:             parts.Subnets(parts.IsolatedSubnets),
		SecurityGroups:         &[]awsec2.ISecurityGroup{net.DatabaseSG},
		Credentials:            awsrds.Credentials_FromGeneratedSecret(jsii.String(dbUser), nil),
		DatabaseName:           jsii.String(dbName),
		AllocatedStorage:       jsii.Number(float64(s.Env.DBAllocatedStorageGiB)),
		MaxAllocatedStorage:    jsii.Number(float64(s.Env.DBMaxAllocatedStorageGiB)),
		StorageEncrypted:       jsii.Bool(true),
		MultiAz:                jsii.Bool(s.Env.MultiAZ),
		BackupRetention:        awscdk.Duration_Days(jsii.Number(float64(s.Env.BackupRetentionDays))),
		DeleteAutomatedBackups: jsii.Bool(s.Env.DBRemoval == config.RemovalDestroy),
		DeletionProtection:     jsii.Bool(s.Env.DeletionProtection),
		RemovalPolicy:          parts.RemovalPolicy(s.Env.DBRemoval),
		ParameterGroup:         params,
		PubliclyAccessible:     jsii.Bool(false),
	})
	parts.Output(stack, "DBEndpoint", *db.DbInstanceEndpointAddress(), "PostgreSQL endpoint")
	parts.Output(stack, "DBSecretArn", *db.Secret().SecretArn(), "database credentials secret ARN")
	return db
}
