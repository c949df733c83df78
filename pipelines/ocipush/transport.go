package ocipush

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// userAgent names this tool in registry logs.
const userAgent = "stevedore-oci"

// remoteOptions builds the go-containerregistry options shared by every
// call against reg: credentials, context, and the dial override.
func (e endpoint) remoteOptions(ctx context.Context, reg name.Registry) []remote.Option {
	auth := authn.Anonymous
	if e.username != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: e.username, Password: e.password})
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithUserAgent(userAgent),
		remote.WithTransport(e.transport(reg)),
	}
}

// transport is the default registry transport, except that with a dial
// override, connections meant for the registry host go to e.dial instead.
// Other hosts (a token service, a blob CDN) are dialled as usual.
func (e endpoint) transport(reg name.Registry) http.RoundTripper {
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if e.dial == "" {
		return base
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	next := base.DialContext
	host, port := splitRegistry(reg.RegistryStr())
	base.Proxy = nil // the override means a direct connection
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		h, p, err := net.SplitHostPort(addr)
		if err == nil && h == host && (port == "" || p == port) {
			return dialer.DialContext(ctx, network, e.dial)
		}
		return next(ctx, network, addr)
	}
	return base
}

// splitRegistry splits "host[:port]" into host and port ("" when absent).
func splitRegistry(s string) (host, port string) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		return h, p
	}
	return s, ""
}
