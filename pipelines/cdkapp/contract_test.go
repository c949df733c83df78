package cdkapp

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

func ref(repo string, n int) string { return fmt.Sprintf("%s@sha256:%064d", repo, n) }

func template(stack string, body string) Template { return Template{Stack: stack, Body: []byte(body)} }

func commander() *appspec.App {
	return &appspec.App{Name: "commander", Services: []appspec.Service{{Name: "backend"}, {Name: "qdrant"}}, Infra: &appspec.Infra{Dir: "cdk"}}
}

func TestNeeds(t *testing.T) {
	app := commander()
	app.Frontend = &appspec.Frontend{Dir: "web"}
	app.Infra.Outputs = map[string]string{"ClusterName": "EcsCluster"}
	var got []string
	for _, n := range Needs(app) {
		got = append(got, n.Step+"="+n.Name)
	}
	want := "rollout=EcsCluster rollout:backend=BackendServiceName rollout:qdrant=QdrantServiceName publish:frontend=FrontendBucketName"
	if strings.Join(got, " ") != want {
		t.Fatalf("needs = %s\nwant    %s", strings.Join(got, " "), want)
	}
}

func TestCheck(t *testing.T) {
	backend, qdrant := ref("r/backend", 1), ref("r/qdrant", 2)
	images := map[string]string{"backend": backend, "qdrant": qdrant}
	network := template("Net-dev", `{"Outputs":{"ClusterName":{"Value":"c"}}}`)
	backendStack := template("Backend-dev", `{"Resources":{"T":{"Properties":{"Image":"`+backend+`"}}},"Outputs":{"BackendServiceName":{},"HealthUrl":{}}}`)
	qdrantStack := template("Qdrant-dev", `{"Resources":{"T":{"Properties":{"Image":"`+qdrant+`"}}},"Outputs":{"QdrantServiceName":{}}}`)
	qdrantNoOutput := template("Qdrant-dev", `{"Resources":{"T":{"Properties":{"Image":"`+qdrant+`"}}}}`)
	// An ECR image written as Fn::Join still carries the digest literally.
	joined := template("Qdrant-dev", `{"Resources":{"T":{"Properties":{"Image":{"Fn::Join":["",["1.dkr.ecr/",{"Ref":"R"},"@sha256:`+strings.Repeat("0", 63)+`2"]]}}}},"Outputs":{"QdrantServiceName":{}}}`)

	mapped := commander()
	mapped.Infra.Outputs = map[string]string{"QdrantServiceName": "VectorDbService"}

	for _, tc := range []struct {
		name      string
		app       *appspec.App
		images    map[string]string
		templates []Template
		want      []string // substrings of the error; none = must pass
		notWant   []string
	}{
		{"complete", commander(), images, []Template{network, backendStack, qdrantStack}, nil, nil},
		{"digest inside Fn::Join", commander(), images, []Template{network, backendStack, joined}, nil, nil},
		{"missing service output names the stack using the image", commander(), images, []Template{network, backendStack, qdrantNoOutput},
			[]string{"rollout:qdrant needs the stack output QdrantServiceName, which no stack exports: add it to Qdrant-dev (the stack using image.qdrant)", "new cdk.CfnOutput(this, 'QdrantServiceName'", "infra.outputs: {QdrantServiceName: YourOutputName}"},
			[]string{"BackendServiceName", "ClusterName"}},
		{"missing cluster names every image stack", commander(), images, []Template{backendStack, qdrantStack},
			[]string{"rollout needs the stack output ClusterName", "add it to Backend-dev or Qdrant-dev", "cluster.clusterName"}, nil},
		{"image not deployed", commander(), images, []Template{network, backendStack},
			[]string{"no stack deploys image " + qdrant + " (context image.qdrant)", "tryGetContext('image.qdrant')", "rollout:qdrant needs the stack output QdrantServiceName"}, []string{"image " + backend}},
		{"mapped output present", mapped, images, []Template{network, backendStack, template("Qdrant-dev", `{"R":"`+qdrant+`","Outputs":{"VectorDbService":{}}}`)}, nil, nil},
		{"two services with one digest: the stack naming the repository", commander(),
			map[string]string{"backend": ref("r/backend", 9), "qdrant": ref("r/qdrant", 9)},
			[]Template{network, template("Backend-dev", `{"I":"`+ref("r/backend", 9)+`","Outputs":{"BackendServiceName":{}}}`), template("Qdrant-dev", `{"I":"`+ref("r/qdrant", 9)+`"}`)},
			[]string{"add it to Qdrant-dev (the stack using image.qdrant)"}, []string{"Backend-dev or Qdrant-dev (the stack using image.qdrant)"}},
		{"mapped output missing", mapped, images, []Template{network, backendStack, qdrantStack},
			[]string{"needs the stack output VectorDbService (infra.outputs maps QdrantServiceName to it)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(Needs(tc.app), tc.images, tc.templates)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check passed an assembly that breaks the contract")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, b := range tc.notWant {
				if strings.Contains(err.Error(), b) {
					t.Errorf("error mentions %q, which is fine:\n%v", b, err)
				}
			}
		})
	}
}

func TestCheckNoTemplatesOrBadJSON(t *testing.T) {
	if err := Check(nil, nil, nil); !errors.Is(err, ErrNoTemplates) {
		t.Errorf("no templates: %v", err)
	}
	if err := Check(nil, nil, []Template{template("S", "{")}); err == nil || !strings.Contains(err.Error(), "template of stack S is not valid JSON") {
		t.Errorf("bad JSON: %v", err)
	}
}
