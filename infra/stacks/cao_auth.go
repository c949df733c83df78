package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognitoidentitypool"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// CAOAuth is CAOAuthStack: the Cognito user pool, its client and an identity pool.
type CAOAuth struct {
	// Stack is CAOAuthStack-<env>.
	Stack awscdk.Stack
	// UserPool authenticates CAO users (USER_POOL_ID of the server).
	UserPool awscognito.UserPool
}

// NewCAOAuth creates CAOAuthStack-<env>: passwords of at least 12
// characters with lower, upper, digits and symbols, temporary passwords
// valid 3 days, and threat protection (advanced security) enforced, which
// needs the Plus feature plan.
func NewCAOAuth(scope constructs.Construct, s config.Settings, env *awscdk.Environment) *CAOAuth {
	stack := newStack(scope, s, "Auth", "CAO authentication: Cognito user and identity pools", env)
	pool := awscognito.NewUserPool(stack, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(12),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		DeletionProtection:           jsii.Bool(s.Env.DeletionProtection),
		RemovalPolicy:                parts.RemovalPolicy(s.Env.Removal),
	})
	client := pool.AddClient(jsii.String("Client"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
		// No hosted UI or callback URL is known here: tokens come from the SRP flow.
		DisableOAuth: jsii.Bool(true),
	})
	identity := awscognitoidentitypool.NewIdentityPool(stack, jsii.String("IdentityPool"), &awscognitoidentitypool.IdentityPoolProps{
		AllowUnauthenticatedIdentities: jsii.Bool(false),
		AuthenticationProviders: &awscognitoidentitypool.IdentityPoolAuthenticationProviders{
			UserPools: &[]awscognitoidentitypool.IUserPoolAuthenticationProvider{
				awscognitoidentitypool.NewUserPoolAuthenticationProvider(&awscognitoidentitypool.UserPoolAuthenticationProviderProps{
					UserPool: pool, UserPoolClient: client,
				}),
			},
		},
	})
	parts.Output(stack, "UserPoolId", *pool.UserPoolId(), "Cognito user pool")
	parts.Output(stack, "UserPoolClientId", *client.UserPoolClientId(), "Cognito app client")
	parts.Output(stack, "IdentityPoolId", *identity.IdentityPoolId(), "Cognito identity pool")
	return &CAOAuth{Stack: stack, UserPool: pool}
}
