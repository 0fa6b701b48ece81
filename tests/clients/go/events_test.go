// The Go subscribe helper against a real b24gate and b24-emulator: deals
// added through the gateway arrive on the Events channel; acknowledged
// events are never delivered again. Events of other tests' deals may arrive
// too: they are acknowledged and otherwise ignored.
package clients_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	b24gate "b24gate/clients/go"
)

// rest asks the emulator itself (not the gateway) for a method's result.
func rest(t *testing.T, method string, result any) {
	resp, err := http.Get(os.Getenv("B24_EMULATOR_URL") + method)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&struct{ Result any }{result}); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	for i := 0; i < 300; i++ {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waited 30 s for %s", what)
}

func addDeal(t *testing.T, gw *b24gate.Gateway, title string) string {
	raw, err := gw.Call(context.Background(), "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": title}})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// takeUntil acknowledges every event until all of ids arrived; returns what arrived.
func takeUntil(t *testing.T, sub *b24gate.Subscription, ids ...string) []*b24gate.Event {
	waiting := map[string]bool{}
	for _, id := range ids {
		waiting[id] = true
	}
	var got []*b24gate.Event
	for e := range sub.Events {
		if err := e.Ack(); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		delete(waiting, e.RecordID)
		if len(waiting) == 0 {
			return got
		}
	}
	t.Fatalf("the stream ended (%v) before records %v arrived", sub.Err(), waiting)
	return nil
}

func TestSubscribeDeliversWritesAndAcknowledgedEventsNeverReturn(t *testing.T) {
	gw := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := gw.Subscribe(ctx, "go-client", []string{"ONCRMDEALADD"})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ONCRMDEALADD bound", func() bool {
		var bound []struct{ Event string }
		rest(t, "event.get", &bound)
		for _, b := range bound {
			if b.Event == "ONCRMDEALADD" {
				return true
			}
		}
		return false
	})
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, addDeal(t, gw, fmt.Sprintf("go %d", i)))
	}
	acked := map[string]bool{}
	for _, e := range takeUntil(t, sub, ids...) {
		acked[e.DeliveryID] = true
		if e.Event != "ONCRMDEALADD" || e.Attempt != 1 {
			t.Errorf("event %+v", e)
		}
	}
	waitUntil(t, "the gateway to take the rows off the portal's queue", func() bool {
		var queued []struct{ ID json.Number }
		rest(t, "event.offline.list", &queued)
		return len(queued) == 0
	})
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}

	again, err := gw.Subscribe(ctx, "go-client", []string{"ONCRMDEALADD"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	newID := addDeal(t, gw, "go later")
	got := takeUntil(t, again, newID)
	for _, e := range got {
		if acked[e.DeliveryID] {
			t.Errorf("acknowledged event delivered again: %+v", e)
		}
	}
	if last := got[len(got)-1]; last.Attempt != 1 {
		t.Errorf("the new deal's event: %+v", last)
	}
}
