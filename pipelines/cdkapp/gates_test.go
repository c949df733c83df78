package cdkapp

import (
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// A gated service's stack must pause its deployment at the gate's stage,
// with ROLLBACK on timeout; a stack that cannot is refused before any
// deploy, each problem named.
func TestCheckGates(t *testing.T) {
	backend, qdrant := ref("r/backend", 1), ref("r/qdrant", 2)
	images := map[string]string{"backend": backend, "qdrant": qdrant}
	stack := func(hooks, strategy string) Template {
		return template("Backend-dev", `{"Resources":{
  "T":{"Type":"AWS::ECS::TaskDefinition","Properties":{"ContainerDefinitions":[{"Image":"`+backend+`"}]}},
  "S":{"Type":"AWS::ECS::Service","Properties":{"DeploymentConfiguration":{"Strategy":"BLUE_GREEN"`+hooks+`}}}},
 "Outputs":{"BackendDeploymentStrategy":{"Value":"`+strategy+`"}}}`)
	}
	pause := func(stage, action string) string {
		return `,"LifecycleHooks":[{"TargetType":"PAUSE","LifecycleStages":["` + stage + `"],"TimeoutConfiguration":{"Action":"` + action + `","TimeoutInMinutes":30}}]`
	}
	qdrantStack := template("Qdrant-dev", `{"Resources":{"T":{"Properties":{"Image":"`+qdrant+`"}}}}`)
	for _, tc := range []struct {
		name  string
		gated bool
		tpl   Template
		want  []string // "" : no error
	}{
		{"hook at the gate's stage", true, stack(pause("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK"), "blue-green"), nil},
		{"no gate, no hook needed", false, stack("", "rolling"), nil},
		{"no hook", true, stack("", "blue-green"), []string{"service backend has gate: true, but no AWS::ECS::Service in Backend-dev (the stack using image.backend) has a PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT", "addPropertyOverride('DeploymentConfiguration.LifecycleHooks'"}},
		{"hook at another stage", true, stack(pause("POST_SCALE_UP", "ROLLBACK"), "blue-green"), []string{"has a PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT"}},
		{"hook continues on timeout", true, stack(pause("POST_TEST_TRAFFIC_SHIFT", "CONTINUE"), "blue-green"), []string{"the PAUSE hook at POST_TEST_TRAFFIC_SHIFT in Backend-dev times out with CONTINUE: set TimeoutConfiguration.Action to ROLLBACK"}},
		{"rolling strategy exported", true, stack(pause("POST_TEST_TRAFFIC_SHIFT", "ROLLBACK"), "rolling"), []string{`Backend-dev exports BackendDeploymentStrategy = "rolling"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := commander()
			if tc.gated {
				app.Services[0].Deployment = &appspec.Deployment{Gate: true}
			}
			err := CheckGates(app, images, []Template{tc.tpl, qdrantStack})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
