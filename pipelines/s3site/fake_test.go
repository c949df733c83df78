package s3site

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"

	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// fakeAWS is an in-memory S3 (path-style REST-XML) and CloudFront served by
// one httptest server. It records every request as "Operation key" and can
// be scripted to fail an operation a number of times.
type fakeAWS struct {
	t   *testing.T
	srv *httptest.Server

	mu            sync.Mutex
	buckets       map[string]map[string]*fakeObject
	movedTo       string // HeadBucket answers 301 with this region
	pageSize      int
	faults        map[string][]fakeFault
	deleteDenied  map[string]bool
	requests      []string
	distributions map[string]bool
	invalidations map[string]*fakeInvalidation
	callerRefs    map[string]bool
	completeAfter int // GetInvalidation polls before Completed
}

type fakeObject struct {
	body         []byte
	etag         string
	contentType  string
	cacheControl string
	meta         map[string]string
}

type fakeFault struct {
	status int
	code   string
	times  int // < 0: always
}

type fakeInvalidation struct {
	paths []string
	polls int
}

func newFakeAWS(t *testing.T, buckets ...string) *fakeAWS {
	f := &fakeAWS{t: t, buckets: map[string]map[string]*fakeObject{}, pageSize: 2,
		faults: map[string][]fakeFault{}, deleteDenied: map[string]bool{},
		distributions: map[string]bool{"EDFDVBD6EXAMPLE": true}, invalidations: map[string]*fakeInvalidation{},
		callerRefs: map[string]bool{}, completeAfter: 1}
	for _, b := range buckets {
		f.buckets[b] = map[string]*fakeObject{}
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// config is what awsconf.Load would give, pointed at the fake, with retries
// that do not wait.
func (f *fakeAWS) config() aws.Config { return awstest.Config(f.srv.URL) }

// fail makes the next `times` calls of op (all of them when times < 0)
// answer status with the error code.
func (f *fakeAWS) fail(op string, status int, code string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], fakeFault{status: status, code: code, times: times})
}

func (f *fakeAWS) takeFault(op string) *fakeFault {
	list := f.faults[op]
	if len(list) == 0 {
		return nil
	}
	ft := list[0]
	if ft.times > 0 {
		list[0].times--
		if list[0].times == 0 {
			f.faults[op] = list[1:]
		}
	}
	return &ft
}

// put stores an object directly, as another tool would have.
func (f *fakeAWS) put(bucket, key, body, contentType, cacheControl string, meta map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buckets[bucket][key] = &fakeObject{body: []byte(body), etag: md5hex([]byte(body)),
		contentType: contentType, cacheControl: cacheControl, meta: meta}
}

func (f *fakeAWS) object(bucket, key string) *fakeObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buckets[bucket][key]
}

// snapshot maps each key to its body and headers, to compare bucket states.
func (f *fakeAWS) snapshot(bucket string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for k, o := range f.buckets[bucket] {
		out[k] = fmt.Sprintf("%s|%s|%s|%v", o.body, o.contentType, o.cacheControl, o.meta)
	}
	return out
}

// ops returns the recorded requests of one operation, e.g. "PutObject".
func (f *fakeAWS) ops(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if name, arg, _ := strings.Cut(r, " "); name == op {
			out = append(out, arg)
		}
	}
	return out
}

// all returns every recorded request in order.
func (f *fakeAWS) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeAWS) resetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

func (f *fakeAWS) writes() []string {
	var w []string
	for _, op := range []string{"PutObject", "DeleteObjects", "CreateInvalidation"} {
		w = append(w, f.ops(op)...)
	}
	return w
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/2020-05-31/distribution/") {
		f.cloudFront(w, r)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	op := s3Operation(r.Method, key, q)
	f.requests = append(f.requests, op+" "+key)
	if ft := f.takeFault(op); ft != nil {
		s3Error(w, r, ft.status, ft.code)
		return
	}
	objs, ok := f.buckets[bucket]
	if !ok {
		s3Error(w, r, http.StatusNotFound, "NoSuchBucket")
		return
	}
	switch op {
	case "HeadBucket":
		if f.movedTo != "" {
			w.Header().Set("X-Amz-Bucket-Region", f.movedTo)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		w.Header().Set("X-Amz-Bucket-Region", "us-east-1")
	case "ListObjectsV2":
		f.list(w, bucket, objs, q)
	case "HeadObject":
		o, ok := objs[key]
		if !ok {
			s3Error(w, r, http.StatusNotFound, "NotFound")
			return
		}
		h := w.Header()
		h.Set("ETag", `"`+o.etag+`"`)
		h.Set("Content-Length", strconv.Itoa(len(o.body)))
		h.Set("Content-Type", o.contentType)
		if o.cacheControl != "" {
			h.Set("Cache-Control", o.cacheControl)
		}
		for k, v := range o.meta {
			h.Set("X-Amz-Meta-"+k, v)
		}
	case "PutObject":
		body, err := io.ReadAll(r.Body)
		if err != nil || int64(len(body)) != r.ContentLength {
			f.t.Errorf("PutObject %s: body of %d bytes, Content-Length %d, err %v", key, len(body), r.ContentLength, err)
		}
		meta := map[string]string{}
		for h, v := range r.Header {
			if name, ok := strings.CutPrefix(strings.ToLower(h), "x-amz-meta-"); ok {
				meta[name] = v[0]
			}
		}
		o := &fakeObject{body: body, etag: md5hex(body), contentType: r.Header.Get("Content-Type"),
			cacheControl: r.Header.Get("Cache-Control"), meta: meta}
		objs[key] = o
		w.Header().Set("ETag", `"`+o.etag+`"`)
	case "DeleteObjects":
		f.deleteObjects(w, r, objs)
	default:
		f.t.Errorf("fake S3: unexpected request %s %s", r.Method, r.URL)
		s3Error(w, r, http.StatusNotImplemented, "NotImplemented")
	}
}

func s3Operation(method, key string, q url.Values) string {
	switch {
	case method == http.MethodHead && key == "":
		return "HeadBucket"
	case method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case method == http.MethodHead:
		return "HeadObject"
	case method == http.MethodPut && key != "":
		return "PutObject"
	case method == http.MethodPost && key == "" && q.Has("delete"):
		return "DeleteObjects"
	}
	return method + "?"
}

// s3Error answers like S3: HEAD responses carry no body.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s from fake</Message><RequestId>REQ1</RequestId></Error>`, code, code)
}

type listEntry struct {
	Key          string
	ETag         string
	Size         int
	LastModified string
	StorageClass string
}

type listResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	Contents              []listEntry
	NextContinuationToken string `xml:",omitempty"`
}

// list pages through sorted keys; the token is the last key of the page.
func (f *fakeAWS) list(w http.ResponseWriter, bucket string, objs map[string]*fakeObject, q url.Values) {
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := listResult{Name: bucket, Prefix: prefix, MaxKeys: f.pageSize}
	if len(keys) > f.pageSize {
		keys = keys[:f.pageSize]
		res.IsTruncated = true
		res.NextContinuationToken = keys[len(keys)-1]
	}
	for _, k := range keys {
		o := objs[k]
		res.Contents = append(res.Contents, listEntry{Key: k, ETag: `"` + o.etag + `"`, Size: len(o.body),
			LastModified: "2025-01-02T03:04:05.000Z", StorageClass: "STANDARD"})
	}
	res.KeyCount = len(res.Contents)
	writeXML(f.t, w, http.StatusOK, res)
}

type deleteRequest struct {
	Objects []struct{ Key string } `xml:"Object"`
	Quiet   bool
}

type deleteError struct {
	Key, Code, Message string
}

type deleteResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []struct{ Key string }
	Error   []deleteError `xml:"Error"`
}

func (f *fakeAWS) deleteObjects(w http.ResponseWriter, r *http.Request, objs map[string]*fakeObject) {
	var req deleteRequest
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("DeleteObjects body: %v", err)
	}
	var res deleteResult
	for _, o := range req.Objects {
		f.requests[len(f.requests)-1] += o.Key + " "
		if f.deleteDenied[o.Key] {
			res.Error = append(res.Error, deleteError{Key: o.Key, Code: "AccessDenied", Message: "Access Denied"})
			continue
		}
		delete(objs, o.Key)
		if !req.Quiet {
			res.Deleted = append(res.Deleted, struct{ Key string }{o.Key})
		}
	}
	writeXML(f.t, w, http.StatusOK, res)
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

// cloudFront serves CreateInvalidation and GetInvalidation.
func (f *fakeAWS) cloudFront(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/2020-05-31/distribution/"), "/")
	dist := parts[0]
	op := "GetInvalidation"
	if r.Method == http.MethodPost {
		op = "CreateInvalidation"
	}
	f.requests = append(f.requests, op+" "+dist)
	if ft := f.takeFault(op); ft != nil {
		cfError(w, ft.status, ft.code)
		return
	}
	if !f.distributions[dist] {
		cfError(w, http.StatusNotFound, "NoSuchDistribution")
		return
	}
	switch {
	case op == "CreateInvalidation" && len(parts) == 2 && parts[1] == "invalidation":
		var batch cfBatch
		if err := xml.NewDecoder(r.Body).Decode(&batch); err != nil {
			f.t.Errorf("CreateInvalidation body: %v", err)
		}
		if batch.Paths.Quantity != len(batch.Paths.Items) {
			f.t.Errorf("Quantity %d for %d paths", batch.Paths.Quantity, len(batch.Paths.Items))
		}
		if f.callerRefs[batch.CallerReference] || batch.CallerReference == "" {
			f.t.Errorf("CallerReference %q empty or reused", batch.CallerReference)
		}
		f.callerRefs[batch.CallerReference] = true
		id := fmt.Sprintf("I%dEXAMPLE", len(f.invalidations)+1)
		f.invalidations[id] = &fakeInvalidation{paths: batch.Paths.Items}
		w.Header().Set("Location", "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+dist+"/invalidation/"+id)
		writeXML(f.t, w, http.StatusCreated, cfInvalidation{Id: id, Status: "InProgress", CreateTime: "2025-01-02T03:04:05Z", InvalidationBatch: batch})
	case op == "GetInvalidation" && len(parts) == 3:
		inv, ok := f.invalidations[parts[2]]
		if !ok {
			cfError(w, http.StatusNotFound, "NoSuchInvalidation")
			return
		}
		inv.polls++
		status := "InProgress"
		if inv.polls >= f.completeAfter {
			status = "Completed"
		}
		writeXML(f.t, w, http.StatusOK, cfInvalidation{Id: parts[2], Status: status, CreateTime: "2025-01-02T03:04:05Z",
			InvalidationBatch: cfBatch{Paths: cfPaths{Quantity: len(inv.paths), Items: inv.paths}, CallerReference: "x"}})
	default:
		f.t.Errorf("fake CloudFront: unexpected request %s %s", r.Method, r.URL)
		cfError(w, http.StatusNotImplemented, "NotImplemented")
	}
}

func cfError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s from fake</Message></Error><RequestId>REQ2</RequestId></ErrorResponse>`, code, code)
}

func writeXML(t *testing.T, w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		t.Errorf("marshal %T: %v", v, err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}
