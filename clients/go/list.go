package b24gate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"

	"b24gate/clients/go/gatewayv1"
)

// ListOptions are the optional settings of GetAll.
type ListOptions struct {
	// Where the items sit in `result`; "" lets the gateway decide.
	ItemsKey string
	// How to read the list; unspecified lets the gateway choose.
	Strategy gatewayv1.ListStrategy
	// Deliver items as they arrive rather than in list order.
	Unordered bool
	// Do not count the list (slow on big tables).
	SkipTotal bool
	// Continue an earlier read (ListSummary.ResumeCursor, or the cursor seen
	// by Progress).
	ResumeCursor string
	// Called after each message: items so far and the list's total (-1 until
	// the portal reports it).
	Progress func(itemsSoFar, total int64)
	// Times a stream broken by UNAVAILABLE is continued from its last resume
	// cursor (see resumeDelay); 0 means 3, negative means never.
	MaxResumes int
}

// ListSummary is what GetAll learnt about the list.
type ListSummary struct {
	Count        int64
	Total        int64 // -1 when the portal reported none
	TotalMatched bool
	Strategy     string
	Warnings     []string
	// The cursor after the last item delivered: a GetAll with it continues
	// from there. Kept also when GetAll fails or the callback stops it.
	ResumeCursor string
	// Times the stream broke with UNAVAILABLE and was continued from
	// ResumeCursor.
	Resumes int
}

// resumeDelay is the pause before the n-th resumption (0-based): 0.5 s
// doubling, at most 5 s. A variable so tests can shorten it.
var resumeDelay = func(n int) time.Duration {
	d := 500 * time.Millisecond << n
	if d > 5*time.Second || d <= 0 {
		d = 5 * time.Second
	}
	return d
}

// GetAll reads a whole list, calling fn for each item in order. An error
// from fn stops the read (the stream is cancelled) and is returned as is;
// cancelling ctx stops it too.
func (g *Gateway) GetAll(ctx context.Context, method string, params Params, fn func(item json.RawMessage) error, opts ...ListOptions) (*ListSummary, error) {
	var o ListOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	text, value, err := g.encode(params)
	if err != nil {
		return nil, err
	}
	req := &gatewayv1.GetAllRequest{Portal: g.portal, Method: method, ParamsJson: text,
		Params: value.GetStructValue(), ItemsKey: o.ItemsKey, Strategy: o.Strategy,
		Unordered: o.Unordered, SkipTotal: o.SkipTotal, ResumeCursor: o.ResumeCursor}
	maxResumes := o.MaxResumes
	if maxResumes == 0 {
		maxResumes = 3
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the gateway's read when fn returns early
	summary := &ListSummary{Total: -1, ResumeCursor: o.ResumeCursor}
	for {
		err := g.readList(ctx, req, fn, o.Progress, summary)
		// A stream broken by UNAVAILABLE (the connection or a gateway replica
		// went away) continues from its last cursor: a read is safe to repeat,
		// and the cursor points past every item already delivered. gRPC's own
		// retries cover failures before the first message.
		var e *Error
		if err == nil || !errors.As(err, &e) || e.GRPCCode != codes.Unavailable ||
			summary.ResumeCursor == "" || summary.Resumes >= maxResumes {
			return summary, err
		}
		select {
		case <-time.After(resumeDelay(summary.Resumes)):
		case <-ctx.Done():
			return summary, err
		}
		summary.Resumes++
		req.ResumeCursor = summary.ResumeCursor
	}
}

// readList runs one GetAll stream to its end, recording progress in summary.
// Errors from fn are returned as they are; RPC errors as *Error.
func (g *Gateway) readList(ctx context.Context, req *gatewayv1.GetAllRequest, fn func(json.RawMessage) error,
	progress func(int64, int64), summary *ListSummary) error {
	stream, err := g.stub.GetAll(ctx, req)
	if err != nil {
		return fromRPC(err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromRPC(err)
		}
		for _, item := range msg.GetItems() {
			if err := fn(toJSON(item)); err != nil {
				return err
			}
		}
		if msg.GetResumeCursor() != "" {
			summary.ResumeCursor = msg.GetResumeCursor()
		}
		if p := msg.GetProgress(); p != nil && progress != nil {
			total := int64(-1)
			if p.Total != nil {
				total = p.GetTotal()
			}
			progress(p.GetItemsSoFar(), total)
		}
		if s := msg.GetSummary(); s != nil {
			summary.Count, summary.TotalMatched = s.GetCount(), s.GetTotalMatched()
			summary.Strategy, summary.Warnings = s.GetStrategy(), s.GetWarnings()
			if s.Total != nil {
				summary.Total = s.GetTotal()
			}
		}
	}
}

// GetAllChan is GetAll as a channel: items arrive on the first channel,
// which is closed at the end; then the second yields the error (nil on
// success). Cancel ctx to stop early.
func (g *Gateway) GetAllChan(ctx context.Context, method string, params Params, opts ...ListOptions) (<-chan json.RawMessage, <-chan error) {
	items := make(chan json.RawMessage, 64)
	done := make(chan error, 1)
	go func() {
		defer close(items)
		_, err := g.GetAll(ctx, method, params, func(item json.RawMessage) error {
			select {
			case items <- item:
				return nil
			case <-ctx.Done():
				return contextError(ctx.Err())
			}
		}, opts...)
		done <- err
	}()
	return items, done
}

// IDResult is the outcome for one id of GetByID.
type IDResult struct {
	ID     any
	Result json.RawMessage
	Err    error // an *Error when this id failed
}

// GetByID calls a `.get`-style method once per id (idField "" = "ID", params
// sent with every call) and returns the outcomes in the order of ids.
func (g *Gateway) GetByID(ctx context.Context, method string, ids []any, idField string, params Params) ([]IDResult, error) {
	text, value, err := g.encode(params)
	if err != nil {
		return nil, err
	}
	req := &gatewayv1.GetByIdRequest{Portal: g.portal, Method: method, IdField: idField,
		ParamsJson: text, Params: value.GetStructValue()}
	for _, id := range ids {
		v, err := toValue(id)
		if err != nil {
			return nil, err
		}
		req.Ids = append(req.Ids, v)
	}
	stream, err := g.stub.GetById(ctx, req)
	if err != nil {
		return nil, fromRPC(err)
	}
	results := make([]IDResult, 0, len(ids))
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return results, nil
		}
		if err != nil {
			return nil, fromRPC(err)
		}
		for _, r := range msg.GetResults() {
			if len(results) == len(ids) {
				return nil, &Error{Code: "BAD_RESPONSE", Description: "GetById answered more ids than asked", GRPCCode: codes.Internal}
			}
			out := IDResult{ID: ids[len(results)]}
			if r.GetError() != nil {
				out.Err = fromCommandError(r.GetError())
			} else {
				out.Result = toJSON(r.GetResult())
			}
			results = append(results, out)
		}
	}
}
