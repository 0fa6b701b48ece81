// Times one GetAll of every lead (`select ID,TITLE`) through the Go client
// (clients/go), items handed over as json.RawMessage, or through the bare
// generated stub, items left as google.protobuf.Value; after a bare read,
// also the client's GetAll replaying those same messages from a stub in
// memory (best of 3): what the client adds to the read, measured apart from
// the machine's noise. Run by tests/bench/clients_bench.sh, which resets the
// servers between reads.
//
// usage: go_getall TARGET bare|client
// Prints "ITEMS SECONDS [CONVERSION_SECONDS]"; the connection is made before
// the clock starts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"

	b24gate "b24gate/clients/go"
	"b24gate/clients/go/gatewayv1"
)

func bare(ctx context.Context, gw *b24gate.Gateway) ([]*gatewayv1.GetAllResponse, error) {
	stream, err := gw.Stub().GetAll(ctx, &gatewayv1.GetAllRequest{Method: "crm.lead.list",
		ParamsJson: `{"select":["ID","TITLE"]}`})
	if err != nil {
		return nil, err
	}
	var messages []*gatewayv1.GetAllResponse
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return messages, nil
		}
		if err != nil {
			return nil, err
		}
		messages = append(messages, msg)
	}
}

// replay is a stub whose GetAll plays recorded messages.
type replay struct {
	gatewayv1.GatewayServiceClient // only GetAll is called
	messages                       []*gatewayv1.GetAllResponse
}

func (r *replay) GetAll(context.Context, *gatewayv1.GetAllRequest, ...grpc.CallOption) (gatewayv1.GatewayService_GetAllClient, error) {
	return &replayStream{messages: r.messages}, nil
}

type replayStream struct {
	grpc.ClientStream // not called
	messages          []*gatewayv1.GetAllResponse
}

func (s *replayStream) Recv() (*gatewayv1.GetAllResponse, error) {
	if len(s.messages) == 0 {
		return nil, io.EOF
	}
	m := s.messages[0]
	s.messages = s.messages[1:]
	return m, nil
}

// conversion times the client's GetAll over the recorded messages: best of 3.
func conversion(messages []*gatewayv1.GetAllResponse) time.Duration {
	var best time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		if _, err := client(context.Background(), b24gate.New(&replay{messages: messages})); err != nil {
			fmt.Fprintln(os.Stderr, "replay:", err)
			os.Exit(1)
		}
		if took := time.Since(start); i == 0 || took < best {
			best = took
		}
	}
	return best
}

func client(ctx context.Context, gw *b24gate.Gateway) (int, error) {
	items := 0
	_, err := gw.GetAll(ctx, "crm.lead.list", map[string]any{"select": []string{"ID", "TITLE"}},
		func(json.RawMessage) error { items++; return nil })
	return items, err
}

func main() {
	if len(os.Args) != 3 || (os.Args[2] != "bare" && os.Args[2] != "client") {
		fmt.Fprintln(os.Stderr, "usage: go_getall TARGET bare|client")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gw, err := b24gate.Dial(ctx, os.Args[1], b24gate.WithDialOptions(grpc.WithBlock()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer gw.Close()
	start := time.Now()
	if os.Args[2] == "client" {
		items, err := client(ctx, gw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "GetAll:", err)
			os.Exit(1)
		}
		fmt.Printf("%d %.3f\n", items, time.Since(start).Seconds())
		return
	}
	messages, err := bare(ctx, gw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "GetAll:", err)
		os.Exit(1)
	}
	seconds := time.Since(start).Seconds()
	items := 0
	for _, m := range messages {
		items += len(m.GetItems())
	}
	fmt.Printf("%d %.3f %.3f\n", items, seconds, conversion(messages).Seconds())
}
