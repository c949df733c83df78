package s3site

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// fakeAWS is the shared fake AWS holding one bucket and the distribution
// testDist, seen through the helpers these tests use. Listing pages hold 2
// keys so paging is exercised.
type fakeAWS struct{ aws *fakeaws.AWS }

// fakeObject is an object of the fake bucket.
type fakeObject struct {
	body         []byte
	contentType  string
	cacheControl string
	meta         map[string]string
}

func newFakeAWS(t *testing.T, bucket string, opts ...fakeaws.Option) *fakeAWS {
	f := &fakeAWS{aws: fakeaws.New(t, append([]fakeaws.Option{fakeaws.WithS3PageSize(2)}, opts...)...)}
	f.aws.CreateBucket(bucket)
	f.aws.CreateDistribution(testDist)
	return f
}

func (f *fakeAWS) config() aws.Config { return f.aws.Config() }

// fail makes the next `times` calls of op (all of them when times < 0)
// answer status with the error code.
func (f *fakeAWS) fail(op string, status int, code string, times int) {
	if times < 0 {
		times = 1000
	}
	f.aws.Fail(op, fakeaws.Fault{Status: status, Code: code, Message: code + " from fake"}, times)
}

// put stores an object directly, as another tool would have.
func (f *fakeAWS) put(bucket, key, body, contentType, cacheControl string, meta map[string]string) {
	f.aws.PutObject(bucket, key, fakeaws.Object{Body: body, ContentType: contentType, CacheControl: cacheControl, Meta: meta})
}

// setETag gives an object the ETag a multipart upload would have.
func (f *fakeAWS) setETag(bucket, key, etag string) {
	o := f.aws.Objects(bucket)[key]
	o.ETag = etag
	f.aws.PutObject(bucket, key, o)
}

func (f *fakeAWS) object(bucket, key string) *fakeObject {
	o, ok := f.aws.Objects(bucket)[key]
	if !ok {
		return nil
	}
	return &fakeObject{body: []byte(o.Body), contentType: o.ContentType, cacheControl: o.CacheControl, meta: o.Meta}
}

// snapshot maps each key to its body and headers, to compare bucket states.
func (f *fakeAWS) snapshot(bucket string) map[string]string {
	out := map[string]string{}
	for k, o := range f.aws.Objects(bucket) {
		out[k] = fmt.Sprintf("%s|%s|%s|%v", o.Body, o.ContentType, o.CacheControl, o.Meta)
	}
	return out
}

// all returns every request in order as "Operation key" (the distribution
// for CloudFront; DeleteObjects lists its keys, each followed by a space).
func (f *fakeAWS) all() []string {
	var out []string
	for _, c := range f.aws.Calls() {
		arg, _ := c.Body["Key"].(string)
		if c.Service == "cloudfront" {
			arg, _ = c.Body["DistributionId"].(string)
		}
		for _, k := range fmtList(c.Body["Keys"]) {
			arg += k + " "
		}
		out = append(out, c.Op+" "+arg)
	}
	return out
}

func fmtList(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// ops returns the argument of each request of one operation, e.g. the keys
// of "PutObject".
func (f *fakeAWS) ops(op string) []string {
	var out []string
	for _, r := range f.all() {
		if name, arg, _ := strings.Cut(r, " "); name == op {
			out = append(out, arg)
		}
	}
	return out
}

func (f *fakeAWS) resetRequests() { f.aws.ResetCalls() }

func (f *fakeAWS) writes() []string {
	var w []string
	for _, op := range []string{"PutObject", "DeleteObjects", "CreateInvalidation"} {
		w = append(w, f.ops(op)...)
	}
	return w
}
