package fakeaws

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
)

type cloudFrontState struct {
	distributions map[string]bool
	invalidations map[string]*invalidation
	callerRefs    map[string]string // CallerReference -> invalidation ID
	polls         int
}

func (s *cloudFrontState) init() {
	s.distributions = map[string]bool{}
	s.invalidations = map[string]*invalidation{}
	s.callerRefs = map[string]string{}
	s.polls = 1
}

type invalidation struct {
	dist, ref string
	paths     []string
	polls     int
}

// WithInvalidationPolls sets how many GetInvalidation calls an invalidation
// stays InProgress before it is Completed (default 1).
func WithInvalidationPolls(n int) Option { return func(a *AWS) { a.cf.polls = n } }

// CreateDistribution adds a CloudFront distribution with id.
func (a *AWS) CreateDistribution(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cf.distributions[id] = true
}

// Invalidations lists the paths of each invalidation of dist, in order.
func (a *AWS) Invalidations(dist string) [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]string
	for i := 1; i <= len(a.cf.invalidations); i++ {
		if inv := a.cf.invalidations[fmt.Sprintf("I%dFAKE", i)]; inv != nil && inv.dist == dist {
			out = append(out, inv.paths)
		}
	}
	return out
}

type cfPaths struct {
	Quantity int
	Items    []string `xml:"Items>Path"`
}

type cfBatch struct {
	Paths           cfPaths
	CallerReference string
}

type cfInvalidation struct {
	XMLName           xml.Name `xml:"http://cloudfront.amazonaws.com/doc/2020-05-31/ Invalidation"`
	Id                string
	Status            string
	CreateTime        string
	InvalidationBatch cfBatch
}

// serveCloudFront answers CreateInvalidation and GetInvalidation (REST-XML).
func (a *AWS) serveCloudFront(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/2020-05-31/distribution/"), "/")
	dist := parts[0]
	op := "GetInvalidation"
	if r.Method == http.MethodPost {
		op = "CreateInvalidation"
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	in := map[string]any{"DistributionId": dist}
	if len(parts) == 3 {
		in["Id"] = parts[2]
	}
	a.record("cloudfront", op, accessKey(r), in)
	if f := a.takeFault("cloudfront", op); f != nil {
		cfError(w, f.Status, f.Code, f.Message)
		return
	}
	if !a.cf.distributions[dist] {
		cfError(w, http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")
		return
	}
	created := a.now.Format("2006-01-02T15:04:05Z")
	switch {
	case op == "CreateInvalidation" && len(parts) == 2 && parts[1] == "invalidation":
		var batch cfBatch
		if err := xml.Unmarshal(body, &batch); err != nil {
			a.t.Errorf("fakeaws: CreateInvalidation body: %v", err)
		}
		in["Paths"], in["CallerReference"] = batch.Paths.Items, batch.CallerReference
		if batch.Paths.Quantity != len(batch.Paths.Items) {
			cfError(w, http.StatusBadRequest, "InconsistentQuantities", "Quantity does not match the number of paths.")
			return
		}
		if id, seen := a.cf.callerRefs[batch.CallerReference]; seen && !equalStrings(a.cf.invalidations[id].paths, batch.Paths.Items) {
			cfError(w, http.StatusConflict, "InvalidationBatchAlreadyExists", "The CallerReference was already used for another batch.")
			return
		}
		id := fmt.Sprintf("I%dFAKE", len(a.cf.invalidations)+1)
		a.cf.invalidations[id] = &invalidation{dist: dist, ref: batch.CallerReference, paths: batch.Paths.Items}
		a.cf.callerRefs[batch.CallerReference] = id
		w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+dist+"/invalidation/"+id)
		a.writeXML(w, http.StatusCreated, cfInvalidation{Id: id, Status: "InProgress", CreateTime: created, InvalidationBatch: batch})
	case op == "GetInvalidation" && len(parts) == 3:
		inv, ok := a.cf.invalidations[parts[2]]
		if !ok || inv.dist != dist {
			cfError(w, http.StatusNotFound, "NoSuchInvalidation", "The specified invalidation does not exist.")
			return
		}
		inv.polls++
		status := "InProgress"
		if inv.polls >= a.cf.polls {
			status = "Completed"
		}
		a.writeXML(w, http.StatusOK, cfInvalidation{Id: parts[2], Status: status, CreateTime: created,
			InvalidationBatch: cfBatch{Paths: cfPaths{Quantity: len(inv.paths), Items: inv.paths}, CallerReference: inv.ref}})
	default:
		a.t.Errorf("fakeaws: CloudFront request %s %s is not simulated", r.Method, r.URL)
		cfError(w, http.StatusNotImplemented, "NotImplemented", "fakeaws does not simulate this CloudFront request")
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func cfError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`, code, xmlText(msg))
}
