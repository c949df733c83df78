package fakeaws

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

type s3State struct {
	buckets  map[string]map[string]*s3Object
	region   map[string]string // bucket -> region, when not the fake's
	denied   map[string]bool   // "bucket/key" DeleteObjects refuses
	pageSize int
}

func (s *s3State) init() {
	s.buckets = map[string]map[string]*s3Object{}
	s.region = map[string]string{}
	s.denied = map[string]bool{}
	s.pageSize = 1000
}

func (s *s3State) bucket(name string) map[string]*s3Object {
	if s.buckets[name] == nil {
		s.buckets[name] = map[string]*s3Object{}
	}
	return s.buckets[name]
}

type s3Object struct {
	body                     []byte
	etag, contentType, cache string
	meta                     map[string]string
}

// Object is an object of the fake S3.
type Object struct {
	Body, ContentType, CacheControl string
	// Meta is the user metadata (x-amz-meta-*), lower-case names.
	Meta map[string]string
	// ETag is the MD5 of Body in hex, as S3 computes for a simple PUT.
	ETag string
}

// WithS3PageSize sets how many keys one ListObjectsV2 page holds (default
// 1000), so tests can exercise paging with few objects.
func WithS3PageSize(n int) Option { return func(a *AWS) { a.s3.pageSize = n } }

// CreateBucket adds an empty bucket (nothing if it exists).
func (a *AWS) CreateBucket(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.s3.bucket(name)
}

// MoveBucket makes bucket live in region: HeadBucket answers 301 with it.
func (a *AWS) MoveBucket(bucket, region string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.s3.region[bucket] = region
}

// DenyDelete makes DeleteObjects report AccessDenied for bucket/key.
func (a *AWS) DenyDelete(bucket, key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.s3.denied[bucket+"/"+key] = true
}

// DeleteBucket removes a bucket and its objects.
func (a *AWS) DeleteBucket(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.s3.buckets, name)
}

// PutObject stores an object directly, as another tool would have; the
// bucket is created if needed. ETag defaults to the MD5 of Body (set it to
// mimic a multipart upload's "<md5>-<parts>").
func (a *AWS) PutObject(bucket, key string, o Object) {
	a.mu.Lock()
	defer a.mu.Unlock()
	etag := orDefault(o.ETag, md5hex([]byte(o.Body)))
	a.s3.bucket(bucket)[key] = &s3Object{body: []byte(o.Body), etag: etag, contentType: o.ContentType, cache: o.CacheControl, meta: o.Meta}
}

// Objects is the content of a bucket by key.
func (a *AWS) Objects(bucket string) map[string]Object {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]Object{}
	for k, o := range a.s3.buckets[bucket] {
		out[k] = Object{Body: string(o.body), ContentType: o.contentType, CacheControl: o.cache, Meta: o.meta, ETag: o.etag}
	}
	return out
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// serveS3 answers S3's REST-XML protocol, path-style or virtual-hosted.
func (a *AWS) serveS3(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if h, _, ok := strings.Cut(r.Host, "."+a.Host); ok && h != "" {
		bucket, key = h, strings.TrimPrefix(r.URL.Path, "/")
	}
	key, _ = url.PathUnescape(key)
	q := r.URL.Query()
	op := s3Operation(r.Method, key, q)
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record("s3", op, accessKey(r), map[string]any{"Bucket": bucket, "Key": key})
	if f := a.takeFault("s3", op); f != nil {
		s3Error(w, r, f.Status, f.Code, f.Message)
		return
	}
	objs, ok := a.s3.buckets[bucket]
	if !ok {
		s3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	switch op {
	case "HeadBucket":
		if reg := a.s3.region[bucket]; reg != "" {
			w.Header().Set("X-Amz-Bucket-Region", reg)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		w.Header().Set("X-Amz-Bucket-Region", a.region)
	case "GetBucketLocation":
		// S3 answers an empty constraint for us-east-1.
		reg := orDefault(a.s3.region[bucket], a.region)
		if reg == "us-east-1" {
			reg = ""
		}
		a.writeXML(w, http.StatusOK, s3Location{Region: reg})
	case "GetBucketEncryption":
		// S3's default encryption of every bucket.
		a.writeXML(w, http.StatusOK, s3Encryption{Algorithm: "AES256"})
	case "ListObjectsV2":
		a.s3List(w, bucket, objs, q)
	case "HeadObject", "GetObject":
		o, ok := objs[key]
		if !ok {
			code := "NoSuchKey"
			if op == "HeadObject" {
				code = "NotFound"
			}
			s3Error(w, r, http.StatusNotFound, code, "The specified key does not exist.")
			return
		}
		h := w.Header()
		h.Set("ETag", `"`+o.etag+`"`)
		h.Set("Content-Length", strconv.Itoa(len(o.body)))
		h.Set("Content-Type", o.contentType)
		if o.cache != "" {
			h.Set("Cache-Control", o.cache)
		}
		for k, v := range o.meta {
			h.Set("X-Amz-Meta-"+k, v)
		}
		if op == "GetObject" {
			_, _ = w.Write(o.body)
		}
	case "PutObject":
		meta := map[string]string{}
		for h, v := range r.Header {
			if name, ok := strings.CutPrefix(strings.ToLower(h), "x-amz-meta-"); ok {
				meta[name] = v[0]
			}
		}
		o := &s3Object{body: body, etag: md5hex(body), contentType: r.Header.Get("Content-Type"), cache: r.Header.Get("Cache-Control"), meta: meta}
		objs[key] = o
		w.Header().Set("ETag", `"`+o.etag+`"`)
	case "DeleteObjects":
		a.s3Delete(w, bucket, body, objs)
	default:
		a.t.Errorf("fakeaws: S3 request %s %s is not simulated", r.Method, r.URL)
		s3Error(w, r, http.StatusNotImplemented, "NotImplemented", "fakeaws does not simulate this S3 request")
	}
}

func s3Operation(method, key string, q url.Values) string {
	switch {
	case method == http.MethodHead && key == "":
		return "HeadBucket"
	case method == http.MethodGet && key == "" && q.Has("location"):
		return "GetBucketLocation"
	case method == http.MethodGet && key == "" && q.Has("encryption"):
		return "GetBucketEncryption"
	case method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case method == http.MethodHead:
		return "HeadObject"
	case method == http.MethodGet && key != "":
		return "GetObject"
	case method == http.MethodPut && key != "":
		return "PutObject"
	case method == http.MethodPost && key == "" && q.Has("delete"):
		return "DeleteObjects"
	}
	return method + "?"
}

// s3Error answers like S3: HEAD responses carry no body.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fake-request</RequestId></Error>`, code, xmlText(msg))
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

type s3Location struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

type s3Encryption struct {
	XMLName   xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ServerSideEncryptionConfiguration"`
	Algorithm string   `xml:"Rule>ApplyServerSideEncryptionByDefault>SSEAlgorithm"`
}

type s3ListEntry struct {
	Key          string
	ETag         string
	Size         int
	LastModified string
	StorageClass string
}

type s3ListResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	Contents              []s3ListEntry
	NextContinuationToken string `xml:",omitempty"`
}

// s3List pages through sorted keys; the token is the last key of the page.
func (a *AWS) s3List(w http.ResponseWriter, bucket string, objs map[string]*s3Object, q url.Values) {
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := s3ListResult{Name: bucket, Prefix: prefix, MaxKeys: a.s3.pageSize}
	if len(keys) > a.s3.pageSize {
		keys = keys[:a.s3.pageSize]
		res.IsTruncated = true
		res.NextContinuationToken = keys[len(keys)-1]
	}
	for _, k := range keys {
		o := objs[k]
		res.Contents = append(res.Contents, s3ListEntry{Key: k, ETag: `"` + o.etag + `"`, Size: len(o.body),
			LastModified: a.now.Format("2006-01-02T15:04:05.000Z"), StorageClass: "STANDARD"})
	}
	res.KeyCount = len(res.Contents)
	a.writeXML(w, http.StatusOK, res)
}

type s3DeleteResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []struct{ Key string }
	Error   []struct{ Key, Code, Message string } `xml:"Error"`
}

func (a *AWS) s3Delete(w http.ResponseWriter, bucket string, body []byte, objs map[string]*s3Object) {
	var req struct {
		Objects []struct{ Key string } `xml:"Object"`
		Quiet   bool
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		a.t.Errorf("fakeaws: DeleteObjects body: %v", err)
	}
	var keys []any
	var res s3DeleteResult
	for _, o := range req.Objects {
		keys = append(keys, o.Key)
		if a.s3.denied[bucket+"/"+o.Key] {
			res.Error = append(res.Error, struct{ Key, Code, Message string }{o.Key, "AccessDenied", "Access Denied"})
			continue
		}
		delete(objs, o.Key)
		if !req.Quiet {
			res.Deleted = append(res.Deleted, struct{ Key string }{o.Key})
		}
	}
	a.calls[len(a.calls)-1].Body["Keys"] = keys
	a.writeXML(w, http.StatusOK, res)
}

func (a *AWS) writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		a.t.Errorf("fakeaws: marshal %T: %v", v, err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(b)
}
