package b24gate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"google.golang.org/protobuf/types/known/structpb"

	"b24gate/clients/go/gatewayv1"
)

// Event is one event delivered by Subscribe. Call Ack once it is processed:
// the gateway deletes it from the portal's queue only then, and what is not
// acknowledged comes back on the consumer's next subscription.
type Event struct {
	DeliveryID string
	Event      string // e.g. ONCRMDEALUPDATE
	Portal     string
	RecordID   string // the record's ID as text; "" when the event has none
	Timestamp  string
	Data       json.RawMessage // the event's data as Bitrix24 sent it
	Attempt    int32           // 1 for the first delivery
	sub        *Subscription
}

// Ack acknowledges the event on the stream that delivered it.
func (e *Event) Ack() error { return e.sub.Ack(e.DeliveryID) }

// SubscribeOptions are the optional settings of Subscribe.
type SubscribeOptions struct {
	// The portal does not queue events of writes that carry this
	// auth_connector (a service does not hear its own writes).
	AuthConnector string
	// Where the events come from; unspecified = the portal's offline queue.
	Source gatewayv1.EventSource
}

// Subscription is one EventService.Subscribe stream. Events is closed when
// the stream ends; Err then tells why (nil when it ended normally, an *Error
// otherwise: UNAVAILABLE means subscribing again is safe; the other codes
// are a subscription or acknowledgement the gateway refused).
// Ack and Close are safe for concurrent use; read Events from one goroutine
// or many.
type Subscription struct {
	Events <-chan *Event

	stream gatewayv1.EventService_SubscribeClient
	cancel context.CancelFunc
	sendMu sync.Mutex // grpc-go allows one Send at a time
	done   chan struct{}
	err    error // set before done is closed
}

// Subscribe names the consumer and the events to bind (e.g. ONCRMDEALADD)
// and returns the stream of events. Cancel ctx or call Close to end it.
func (g *Gateway) Subscribe(ctx context.Context, consumer string, events []string, opts ...SubscribeOptions) (*Subscription, error) {
	if g.events == nil {
		return nil, errors.New("b24gate: Subscribe needs a Gateway made by Dial")
	}
	var o SubscribeOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := g.events.Subscribe(ctx)
	if err == nil {
		err = stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Start{
			Start: &gatewayv1.SubscribeStart{Portal: g.portal, Consumer: consumer, Events: events,
				AuthConnector: o.AuthConnector, Source: o.Source}}})
	}
	if err != nil {
		cancel()
		return nil, fromRPC(err)
	}
	out := make(chan *Event, 64)
	s := &Subscription{Events: out, stream: stream, cancel: cancel, done: make(chan struct{})}
	go s.receive(ctx, out)
	return s, nil
}

func (s *Subscription) receive(ctx context.Context, out chan<- *Event) {
	defer close(s.done)
	defer close(out)
	for {
		m, err := s.stream.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			s.err = fromRPC(err)
			return
		}
		e := m.GetEvent()
		select {
		case out <- &Event{DeliveryID: e.DeliveryId, Event: e.Event, Portal: e.Portal,
			RecordID: e.RecordId, Timestamp: e.Timestamp, Attempt: e.Attempt,
			Data: toJSON(structpb.NewStructValue(e.Data)), sub: s}:
		case <-ctx.Done():
			s.err = contextError(ctx.Err())
			return
		}
	}
}

// Ack acknowledges events by delivery id (Event.Ack does this for one).
func (s *Subscription) Ack(deliveryIDs ...string) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return fromRPC(s.stream.Send(&gatewayv1.SubscribeRequest{Kind: &gatewayv1.SubscribeRequest_Ack{
		Ack: &gatewayv1.SubscribeAck{DeliveryIds: deliveryIDs}}}))
}

// Close sends the acknowledgements made so far, ends our side of the stream
// and waits until the gateway has taken them and ended it. Events it
// delivered meanwhile are dropped unacknowledged (they come back next time).
// Returns Err.
func (s *Subscription) Close() error {
	s.sendMu.Lock()
	err := s.stream.CloseSend()
	s.sendMu.Unlock()
	if err != nil {
		s.cancel()
	}
	for range s.Events {
	}
	s.cancel()
	return s.Err()
}

// Err is why the stream ended, once Events is closed (nil before).
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}
