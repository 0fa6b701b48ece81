package b24gate

import (
	"context"
	"testing"
)

func TestBearerTokenMetadata(t *testing.T) {
	md, err := bearerToken("tok-1").GetRequestMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := md["authorization"]; got != "Bearer tok-1" || len(md) != 1 {
		t.Fatalf("metadata %v", md)
	}
	if bearerToken("x").RequireTransportSecurity() {
		t.Fatal("a loopback gateway without TLS could not be used")
	}
	var cfg dialConfig
	WithToken("tok-1")(&cfg)
	if len(cfg.extra) != 1 {
		t.Fatalf("WithToken added %d dial options", len(cfg.extra))
	}
}
