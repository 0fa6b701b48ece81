package b24gate

import (
	"context"

	"google.golang.org/grpc"
)

// WithToken sends "authorization: Bearer TOKEN" on every call, for a gateway
// configured with API clients.
func WithToken(token string) Option {
	return func(c *dialConfig) {
		c.extra = append(c.extra, grpc.WithPerRPCCredentials(bearerToken(token)))
	}
}

// bearerToken is grpc credentials.PerRPCCredentials.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

// RequireTransportSecurity is false so that a gateway listening on loopback
// without TLS can be used; across a network, dial with TLS
// (WithTransportCredentials) so the token never travels in clear.
func (bearerToken) RequireTransportSecurity() bool { return false }
