package b24gate

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"b24gate/clients/go/gatewayv1"
)

// Gateway is a connection to b24gate. Safe for concurrent use.
type Gateway struct {
	conn         *grpc.ClientConn
	stub         gatewayv1.GatewayServiceClient
	events       gatewayv1.EventServiceClient // nil when made by New
	files        gatewayv1.FilesServiceClient // nil when made by New
	portal       string
	structParams bool
}

// Option configures Dial.
type Option func(*dialConfig)

type dialConfig struct {
	portal       string
	creds        credentials.TransportCredentials
	extra        []grpc.DialOption
	structParams bool
}

// WithPortal selects a configured portal by name (default: the gateway's
// first portal).
func WithPortal(name string) Option { return func(c *dialConfig) { c.portal = name } }

// WithTransportCredentials uses TLS (default: plaintext).
func WithTransportCredentials(creds credentials.TransportCredentials) Option {
	return func(c *dialConfig) { c.creds = creds }
}

// WithStructParams sends params as google.protobuf.Value/Struct instead of
// JSON text, for gateways that predate params_json (key order is then lost).
func WithStructParams() Option { return func(c *dialConfig) { c.structParams = true } }

// WithDialOptions adds gRPC dial options after the defaults (service config,
// keepalive), so they can override them.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *dialConfig) { c.extra = append(c.extra, opts...) }
}

// Dial connects to the gateway at target ("host:port"). It does not wait for
// the connection: the first call does.
func Dial(ctx context.Context, target string, opts ...Option) (*Gateway, error) {
	var cfg dialConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	dialOpts := defaultDialOptions()
	if cfg.creds != nil {
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(cfg.creds))
	} else {
		dialOpts = append(dialOpts, grpc.WithInsecure())
	}
	dialOpts = append(dialOpts, cfg.extra...)
	conn, err := grpc.DialContext(ctx, target, dialOpts...)
	if err != nil {
		return nil, err
	}
	return &Gateway{conn: conn, stub: gatewayv1.NewGatewayServiceClient(conn),
		events: gatewayv1.NewEventServiceClient(conn), files: gatewayv1.NewFilesServiceClient(conn),
		portal:       cfg.portal,
		structParams: cfg.structParams}, nil
}

// encode returns params as JSON text, or as a Value with WithStructParams.
func (g *Gateway) encode(p Params) (string, *structpb.Value, error) {
	if p == nil {
		return "", nil, nil
	}
	if g.structParams {
		v, err := toValue(p)
		return "", v, err
	}
	text, err := paramsJSON(p)
	return text, nil, err
}

// New wraps an existing stub (a connection of your own, interceptors, or a
// fake in tests); Close then leaves the connection alone.
func New(stub gatewayv1.GatewayServiceClient, opts ...Option) *Gateway {
	var cfg dialConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	return &Gateway{stub: stub, portal: cfg.portal, structParams: cfg.structParams}
}

// Close closes the connection Dial made.
func (g *Gateway) Close() error {
	if g.conn == nil {
		return nil
	}
	return g.conn.Close()
}

// Stub is the generated client, for what this package does not wrap.
func (g *Gateway) Stub() gatewayv1.GatewayServiceClient { return g.stub }

// CallOptions are the optional flags of Call.
type CallOptions struct {
	// Send the params as one JSON request, never inside a batch.
	Raw bool
	// The method is safe to repeat when its outcome is unknown.
	Idempotent bool
}

// Call calls one REST method and returns its `result` as JSON.
func (g *Gateway) Call(ctx context.Context, method string, params Params, opts ...CallOptions) (json.RawMessage, error) {
	text, value, err := g.encode(params)
	if err != nil {
		return nil, err
	}
	req := &gatewayv1.CallRequest{Portal: g.portal, Method: method, ParamsJson: text, Params: value}
	for _, o := range opts {
		req.Raw, req.Idempotent = req.Raw || o.Raw, req.Idempotent || o.Idempotent
	}
	resp, err := g.stub.Call(ctx, req)
	if err != nil {
		return nil, fromRPC(err)
	}
	return toJSON(resp.GetResult()), nil
}

// ItemResult is the outcome of one item of CallMany or Batch: Result, or
// Err (an *Error) when that item failed.
type ItemResult struct {
	Result json.RawMessage
	Err    error
}

func itemResult(r *gatewayv1.CallResult) ItemResult {
	if r.GetError() != nil {
		return ItemResult{Err: fromCommandError(r.GetError())}
	}
	return ItemResult{Result: toJSON(r.GetResult())}
}

// CallPath says which RPC CallMany used.
type CallPath string

const (
	PathCallMany CallPath = "CallMany"
	// Call with bulk_params, for gateways that do not serve CallMany yet.
	PathCall CallPath = "Call"
)

// fallbackChunk is the number of parameter sets per Call when CallMany is not
// served: keeps each answer well below gRPC's 4 MiB message limit.
const fallbackChunk = 500

// CallMany calls method once per parameter set and returns the outcomes in
// the same order; a failed item has Err set and does not fail the others.
func (g *Gateway) CallMany(ctx context.Context, method string, params []Params, opts ...CallOptions) ([]ItemResult, CallPath, error) {
	idempotent := false
	for _, o := range opts {
		idempotent = idempotent || o.Idempotent
	}
	req := &gatewayv1.CallManyRequest{Portal: g.portal, Method: method, Idempotent: idempotent}
	for _, p := range params {
		text, value, err := g.encode(p)
		if err != nil {
			return nil, "", err
		}
		if g.structParams {
			req.Params = append(req.Params, value)
		} else {
			req.ParamsJson = append(req.ParamsJson, text)
		}
	}
	results, err := g.callMany(ctx, req)
	// UNIMPLEMENTED comes before anything ran: sending the same sets through
	// Call cannot repeat a write.
	if status.Code(err) != codes.Unimplemented {
		return results, PathCallMany, fromRPC(err)
	}
	results, err = g.callBulk(ctx, method, params, idempotent)
	return results, PathCall, err
}

func (g *Gateway) callMany(ctx context.Context, req *gatewayv1.CallManyRequest) ([]ItemResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := g.stub.CallMany(ctx, req)
	if err != nil {
		return nil, err
	}
	results := make([]ItemResult, len(req.GetParamsJson())+len(req.GetParams()))
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return results, nil
		}
		if err != nil {
			return nil, err
		}
		for i, r := range msg.GetResults() {
			index := int(msg.GetFirstIndex()) + i
			if index >= len(results) {
				return nil, &Error{Code: "BAD_RESPONSE", Description: "CallMany answered past the last parameter set", GRPCCode: codes.Internal}
			}
			results[index] = itemResult(r)
		}
	}
}

func (g *Gateway) callBulk(ctx context.Context, method string, params []Params, idempotent bool) ([]ItemResult, error) {
	results := make([]ItemResult, 0, len(params))
	for start := 0; start < len(params); start += fallbackChunk {
		end := start + fallbackChunk
		if end > len(params) {
			end = len(params)
		}
		req := &gatewayv1.CallRequest{Portal: g.portal, Method: method, Idempotent: idempotent}
		for _, p := range params[start:end] {
			v, err := toValue(p)
			if err != nil {
				return nil, err
			}
			req.BulkParams = append(req.BulkParams, v)
		}
		resp, err := g.stub.Call(ctx, req)
		if err != nil {
			return nil, fromRPC(err)
		}
		for _, r := range resp.GetResults() {
			results = append(results, itemResult(r))
		}
	}
	return results, nil
}

// Command is one command of a Batch: Method with Params, or Method written
// Bitrix24-style as "method?query" with nil Params. Later commands may refer
// to earlier ones as "$result[key][...]".
type Command struct {
	Key    string
	Method string
	Params Params
}

// Batch runs named commands as Bitrix24 batches and returns each key's
// outcome. With halt, commands after the first failure fail with
// NOT_EXECUTED.
func (g *Gateway) Batch(ctx context.Context, commands []Command, halt bool) (map[string]ItemResult, error) {
	req := &gatewayv1.CallBatchRequest{Portal: g.portal, Halt: halt}
	for _, c := range commands {
		text, value, err := g.encode(c.Params)
		if err != nil {
			return nil, err
		}
		req.Commands = append(req.Commands, &gatewayv1.BatchCommand{Key: c.Key, Method: c.Method,
			ParamsJson: text, Params: value.GetStructValue()})
	}
	resp, err := g.stub.CallBatch(ctx, req)
	if err != nil {
		return nil, fromRPC(err)
	}
	results := make(map[string]ItemResult, len(resp.GetResults()))
	for _, r := range resp.GetResults() {
		results[r.GetKey()] = itemResult(r.GetResult())
	}
	return results, nil
}
