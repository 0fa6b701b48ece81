package b24gate

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"b24gate/clients/go/gatewayv1"
)

// Unit tests of CallMany's fallback over a fake stub: a gateway that answers
// CallMany with UNIMPLEMENTED (nothing ran) gets the same parameter sets
// through Call's bulk_params, in chunks, in order; any other failure is
// returned and nothing is sent again.

type callManyStub struct {
	gatewayv1.GatewayServiceClient // only CallMany and Call are called
	code                           codes.Code
	callMany                       []*gatewayv1.CallManyRequest
	bulk                           []*gatewayv1.CallRequest
}

func (s *callManyStub) CallMany(ctx context.Context, in *gatewayv1.CallManyRequest, _ ...grpc.CallOption) (gatewayv1.GatewayService_CallManyClient, error) {
	s.callMany = append(s.callMany, in)
	return &failingStream{err: status.Error(s.code, "fake")}, nil
}

type failingStream struct {
	grpc.ClientStream
	err error
}

func (f *failingStream) Recv() (*gatewayv1.CallManyResponse, error) { return nil, f.err }

// Call answers id*10 for each bulk item, or NOT_FOUND for a negative id.
func (s *callManyStub) Call(ctx context.Context, in *gatewayv1.CallRequest, _ ...grpc.CallOption) (*gatewayv1.CallResponse, error) {
	s.bulk = append(s.bulk, in)
	resp := &gatewayv1.CallResponse{}
	for _, p := range in.GetBulkParams() {
		id := p.GetStructValue().GetFields()["id"].GetNumberValue()
		if id < 0 {
			resp.Results = append(resp.Results, &gatewayv1.CallResult{Error: &gatewayv1.CommandError{Code: "NOT_FOUND", GrpcCode: 5}})
		} else {
			resp.Results = append(resp.Results, &gatewayv1.CallResult{Result: structpb.NewNumberValue(id * 10)})
		}
	}
	return resp, nil
}

func TestCallManyFallsBackToBulkCallInOrder(t *testing.T) {
	stub := &callManyStub{code: codes.Unimplemented}
	params := []Params{map[string]any{"id": 1}, map[string]any{"id": -1}}
	for i := 0; i < fallbackChunk+3; i++ {
		params = append(params, map[string]any{"id": i})
	}
	results, path, err := New(stub).CallMany(context.Background(), "crm.deal.get", params)
	if err != nil || path != PathCall || len(results) != len(params) {
		t.Fatalf("err %v, path %s, %d results", err, path, len(results))
	}
	var e *Error
	if string(results[0].Result) != "10" || !errors.As(results[1].Err, &e) || e.GRPCCode != codes.NotFound ||
		string(results[len(results)-1].Result) != "5020" {
		t.Fatalf("results %s, %v, %s", results[0].Result, results[1].Err, results[len(results)-1].Result)
	}
	if len(stub.bulk) != 2 || len(stub.bulk[0].GetBulkParams()) != fallbackChunk {
		t.Fatalf("want 2 chunked Calls, got %d", len(stub.bulk))
	}
	if got := stub.callMany[0].GetParamsJson()[0]; got != `{"id":1}` {
		t.Fatalf("CallMany params_json[0] = %s", got)
	}
}

func TestCallManyOtherFailuresAreNotSentAgain(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.InvalidArgument, codes.Canceled} {
		stub := &callManyStub{code: code}
		_, _, err := New(stub).CallMany(context.Background(), "crm.deal.add", []Params{map[string]any{"id": 1}})
		var e *Error
		if !errors.As(err, &e) || e.GRPCCode != code || len(stub.bulk) != 0 {
			t.Fatalf("%v: err %v, %d Calls", code, err, len(stub.bulk))
		}
	}
}
