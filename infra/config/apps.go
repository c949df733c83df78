package config

import "sort"

// Service is one container service of an app: what the context calls it,
// what the outputs call it, and where its image lives by default.
type Service struct {
	// Key is the service's context suffix: image.<Key>, repository.<Key>.
	Key string
	// Title prefixes its outputs: <Title>ServiceName, <Title>TaskFamily.
	Title string
	// DefaultRepository is the ECR repository name used when repository.<Key> is not set.
	DefaultRepository string
	// LogName is the log group base name: /ecs/<LogName>/<env>.
	LogName string
	// Port is the container port the service listens on.
	Port int
}

// App is one deployable application and its stack name prefix.
type App struct {
	// Name is the value of the app context key.
	Name string
	// StackPrefix starts every stack name of the app (CAO, Commander).
	StackPrefix string
	// Services are the app's container services, in deploy order.
	Services []Service
}

// Service returns the app's service with the given key and whether it exists.
func (a App) Service(key string) (Service, bool) {
	for _, s := range a.Services {
		if s.Key == key {
			return s, true
		}
	}
	return Service{}, false
}

// CAO is the CLI Agent Orchestrator server of the CAO deployment guide.
var CAO = App{
	Name:        "cao",
	StackPrefix: "CAO",
	Services: []Service{
		{Key: "backend", Title: "Backend", DefaultRepository: "cao-server", LogName: "cao-server", Port: 9889},
	},
}

// Commander is commander.ai of the commander deployment guide: a FastAPI
// backend and a Qdrant vector database.
var Commander = App{
	Name:        "commander",
	StackPrefix: "Commander",
	Services: []Service{
		{Key: "qdrant", Title: "Qdrant", DefaultRepository: "commander-ai-qdrant", LogName: "commander-qdrant", Port: 6333},
		{Key: "backend", Title: "Backend", DefaultRepository: "commander-ai-backend", LogName: "commander-backend", Port: 8000},
	},
}

var apps = map[string]App{CAO.Name: CAO, Commander.Name: Commander}

// AppByName returns the app with the given context name and whether it exists.
func AppByName(name string) (App, bool) {
	a, ok := apps[name]
	return a, ok
}

// AppNames lists the valid app names, sorted.
func AppNames() []string {
	names := make([]string, 0, len(apps))
	for n := range apps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
