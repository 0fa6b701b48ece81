package b24gate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"b24gate/clients/go/gatewayv1"
)

// Unit tests of GetAll's resumption over a fake stub: a stream broken by
// UNAVAILABLE continues from its last resume cursor; other breaks, or breaks
// before any cursor, are returned.

// script is what one GetAll call plays: messages, then err (nil = io.EOF).
type script struct {
	messages []*gatewayv1.GetAllResponse
	err      error
}

type fakeStub struct {
	gatewayv1.GatewayServiceClient // only GetAll is called
	scripts                        []script
	cursors                        []string // resume_cursor of each request
}

func (f *fakeStub) GetAll(ctx context.Context, in *gatewayv1.GetAllRequest, _ ...grpc.CallOption) (gatewayv1.GatewayService_GetAllClient, error) {
	f.cursors = append(f.cursors, in.GetResumeCursor())
	s := f.scripts[0]
	f.scripts = f.scripts[1:]
	return &fakeStream{script: s}, nil
}

type fakeStream struct {
	grpc.ClientStream // only Recv is called
	script            script
}

func (s *fakeStream) Recv() (*gatewayv1.GetAllResponse, error) {
	if len(s.script.messages) > 0 {
		m := s.script.messages[0]
		s.script.messages = s.script.messages[1:]
		return m, nil
	}
	if s.script.err != nil {
		return nil, s.script.err
	}
	return nil, io.EOF
}

func msg(cursor string, items ...float64) *gatewayv1.GetAllResponse {
	m := &gatewayv1.GetAllResponse{ResumeCursor: cursor}
	for _, i := range items {
		m.Items = append(m.Items, structpb.NewNumberValue(i))
	}
	return m
}

var unavailable = status.Error(codes.Unavailable, "gateway went away")

func readAll(t *testing.T, stub *fakeStub, o ListOptions) ([]string, *ListSummary, error) {
	t.Helper()
	resumeDelay = func(int) time.Duration { return time.Millisecond }
	var items []string
	summary, err := New(stub).GetAll(context.Background(), "crm.lead.list", nil, func(item json.RawMessage) error {
		items = append(items, string(item))
		return nil
	}, o)
	return items, summary, err
}

func TestUnavailableAfterACursorContinuesFromIt(t *testing.T) {
	stub := &fakeStub{scripts: []script{
		{[]*gatewayv1.GetAllResponse{msg("c1", 1, 2)}, unavailable},
		{[]*gatewayv1.GetAllResponse{msg("c2", 3)}, unavailable},
		{[]*gatewayv1.GetAllResponse{msg("c3", 4)}, nil},
	}}
	items, summary, err := readAll(t, stub, ListOptions{})
	if err != nil || len(items) != 4 || items[3] != "4" || summary.Resumes != 2 || summary.ResumeCursor != "c3" {
		t.Fatalf("items %v, summary %+v, err %v", items, summary, err)
	}
	if want := []string{"", "c1", "c2"}; len(stub.cursors) != 3 || stub.cursors[1] != want[1] || stub.cursors[2] != want[2] {
		t.Fatalf("cursors sent %q, want %q", stub.cursors, want)
	}
}

func TestUnavailableBeforeAnyCursorIsReturned(t *testing.T) {
	stub := &fakeStub{scripts: []script{{[]*gatewayv1.GetAllResponse{msg("", 1)}, unavailable}}}
	items, _, err := readAll(t, stub, ListOptions{})
	var e *Error
	if !errors.As(err, &e) || e.GRPCCode != codes.Unavailable || len(items) != 1 || len(stub.cursors) != 1 {
		t.Fatalf("items %v, err %v, calls %d", items, err, len(stub.cursors))
	}
}

func TestOtherCodesAreReturned(t *testing.T) {
	for _, code := range []codes.Code{codes.Canceled, codes.DeadlineExceeded, codes.InvalidArgument, codes.ResourceExhausted} {
		stub := &fakeStub{scripts: []script{{[]*gatewayv1.GetAllResponse{msg("c1", 1)}, status.Error(code, "x")}}}
		_, _, err := readAll(t, stub, ListOptions{})
		var e *Error
		if !errors.As(err, &e) || e.GRPCCode != code || len(stub.cursors) != 1 {
			t.Fatalf("%v: err %v, calls %d", code, err, len(stub.cursors))
		}
	}
}

func TestMaxResumesBoundsTheAttempts(t *testing.T) {
	var scripts []script
	for i := 0; i < 5; i++ {
		scripts = append(scripts, script{[]*gatewayv1.GetAllResponse{msg("c", 1)}, unavailable})
	}
	stub := &fakeStub{scripts: scripts}
	_, summary, err := readAll(t, stub, ListOptions{MaxResumes: 2})
	if err == nil || len(stub.cursors) != 3 || summary.Resumes != 2 {
		t.Fatalf("err %v, calls %d, resumes %d", err, len(stub.cursors), summary.Resumes)
	}
	stub = &fakeStub{scripts: scripts}
	if _, _, err := readAll(t, stub, ListOptions{MaxResumes: -1}); err == nil || len(stub.cursors) != 1 {
		t.Fatalf("MaxResumes -1: err %v, calls %d", err, len(stub.cursors))
	}
}
