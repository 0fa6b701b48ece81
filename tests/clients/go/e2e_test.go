// End-to-end tests of the Go client against a real b24gate and b24-emulator,
// started by tests/clients/go_client_test.sh (B24GATE_TARGET,
// B24_EXPECTED_LEADS).
package clients_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	b24gate "b24gate/clients/go"
)

func dial(t *testing.T) *b24gate.Gateway {
	gw, err := b24gate.Dial(context.Background(), os.Getenv("B24GATE_TARGET"),
		b24gate.WithToken(os.Getenv("B24GATE_TOKEN"))) // params as params_json
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

func TestWithoutTheTokenCallsAreRefused(t *testing.T) {
	gw, err := b24gate.Dial(context.Background(), os.Getenv("B24GATE_TARGET"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	_, err = gw.Call(context.Background(), "crm.lead.list", map[string]any{"select": []string{"ID"}})
	var be *b24gate.Error
	if !errors.As(err, &be) || be.GRPCCode != codes.Unauthenticated {
		t.Fatalf("without a token: %v", err)
	}
}

func expectedLeads(t *testing.T) int {
	n, err := strconv.Atoi(os.Getenv("B24_EXPECTED_LEADS"))
	if err != nil {
		t.Fatalf("B24_EXPECTED_LEADS: %v", err)
	}
	return n
}

type record struct {
	ID    string `json:"ID"`
	TITLE string `json:"TITLE"`
}

func firstIDs(t *testing.T, gw *b24gate.Gateway, method string, n int) []string {
	raw, err := gw.Call(context.Background(), method, map[string]any{"select": []string{"ID"}, "order": map[string]string{"ID": "ASC"}})
	if err != nil {
		t.Fatal(err)
	}
	var page []record
	if err := json.Unmarshal(raw, &page); err != nil || len(page) < n {
		t.Fatalf("%s: %v, %d records", method, err, len(page))
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = page[i].ID
	}
	return ids
}

func TestCallAppliesParams(t *testing.T) {
	gw := dial(t)
	raw, err := gw.Call(context.Background(), "crm.lead.list",
		b24gate.Ordered{"filter", map[string]any{">ID": 0}, "select", []string{"ID", "TITLE"}})
	if err != nil {
		t.Fatal(err)
	}
	var page []map[string]any
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	if len(page) != 50 || len(page[0]) != 2 || page[0]["ID"] == nil || page[0]["TITLE"] == nil {
		t.Fatalf("want 50 leads with ID and TITLE only, got %d, first %v", len(page), page[0])
	}
}

func TestMultiFieldOrderKeepsItsPriority(t *testing.T) {
	gw := dial(t)
	type lead struct{ ID, STATUS_ID string }
	page := func(order b24gate.Ordered) []lead {
		raw, err := gw.Call(context.Background(), "crm.lead.list",
			b24gate.Ordered{"order", order, "select", []string{"ID", "STATUS_ID"}})
		var leads []lead
		if err != nil || json.Unmarshal(raw, &leads) != nil || len(leads) == 0 {
			t.Fatalf("crm.lead.list: %v, %s", err, raw)
		}
		return leads
	}
	id := func(l lead) int { n, _ := strconv.Atoi(l.ID); return n }
	byStatus := page(b24gate.Ordered{"STATUS_ID", "ASC", "ID", "DESC"})
	for i := 1; i < len(byStatus); i++ {
		a, b := byStatus[i-1], byStatus[i]
		if a.STATUS_ID > b.STATUS_ID || (a.STATUS_ID == b.STATUS_ID && id(a) < id(b)) {
			t.Fatalf("STATUS_ID, ID order broken at %d: %v then %v", i, a, b)
		}
	}
	byID := page(b24gate.Ordered{"ID", "DESC", "STATUS_ID", "ASC"})
	for i := 1; i < len(byID); i++ {
		if id(byID[i-1]) < id(byID[i]) {
			t.Fatalf("ID order broken at %d: %v then %v", i, byID[i-1], byID[i])
		}
	}
	if byStatus[0] == byID[0] {
		t.Fatalf("the two key orders gave the same first lead %v", byID[0])
	}
}

func TestUnknownMethodIsAnErrorWithTheBitrixCode(t *testing.T) {
	_, err := dial(t).Call(context.Background(), "no.such.method", nil)
	var e *b24gate.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *b24gate.Error, got %T %v", err, err)
	}
	if e.Code != "ERROR_METHOD_NOT_FOUND" || e.GRPCCode != codes.NotFound || e.Domain != "bitrix24.com" || e.Description == "" {
		t.Fatalf("got %+v", e)
	}
}

// Portal "rest3" sends calls to REST 3.0 (servers.sh): the emulator refuses
// an add without its required people, and the error names both fields.
func TestRest3ValidationErrorsNameEachField(t *testing.T) {
	gw, err := b24gate.Dial(context.Background(), os.Getenv("B24GATE_TARGET"),
		b24gate.WithToken(os.Getenv("B24GATE_TOKEN")), b24gate.WithPortal("rest3"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	_, err = gw.Call(context.Background(), "tasks.task.add",
		map[string]any{"fields": map[string]any{"title": "nobody's task"}})
	var be *b24gate.Error
	if !errors.As(err, &be) || be.GRPCCode != codes.InvalidArgument {
		t.Fatalf("tasks.task.add without people: %v", err)
	}
	if be.Code != "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION" {
		t.Errorf("code %q", be.Code)
	}
	var fields []string
	for _, v := range be.FieldViolations {
		fields = append(fields, v.Field)
	}
	if strings.Join(fields, ",") != "creatorId,responsibleId" ||
		!strings.Contains(be.FieldViolations[0].Description, "creatorId") {
		t.Errorf("field violations %+v", be.FieldViolations)
	}
}

func TestGetAllReadsEveryLeadOnce(t *testing.T) {
	gw := dial(t)
	seen := map[string]bool{}
	var lastTotal int64
	summary, err := gw.GetAll(context.Background(), "crm.lead.list", map[string]any{"select": []string{"ID"}},
		func(item json.RawMessage) error {
			var r record
			if err := json.Unmarshal(item, &r); err != nil {
				return err
			}
			if seen[r.ID] {
				t.Errorf("lead %s twice", r.ID)
			}
			seen[r.ID] = true
			return nil
		}, b24gate.ListOptions{Progress: func(_, total int64) { lastTotal = total }})
	if err != nil {
		t.Fatal(err)
	}
	want := expectedLeads(t)
	if len(seen) != want || summary.Count != int64(want) || !summary.TotalMatched || lastTotal != int64(want) {
		t.Fatalf("want %d leads, got %d; summary %+v; progress total %d", want, len(seen), summary, lastTotal)
	}
}

func TestAReadResumedFromItsCursorLosesNothing(t *testing.T) {
	gw := dial(t)
	stop := errors.New("enough")
	var first, rest []string
	collect := func(into *[]string, limit int) func(json.RawMessage) error {
		return func(item json.RawMessage) error {
			var r record
			if err := json.Unmarshal(item, &r); err != nil {
				return err
			}
			*into = append(*into, r.ID)
			if limit > 0 && len(*into) == limit {
				return stop
			}
			return nil
		}
	}
	params := map[string]any{"select": []string{"ID"}}
	summary, err := gw.GetAll(context.Background(), "crm.lead.list", params, collect(&first, 150))
	if !errors.Is(err, stop) || summary.ResumeCursor == "" {
		t.Fatalf("want a stop with a cursor after 150 leads, got %v, cursor %q", err, summary.ResumeCursor)
	}
	// The cursor is past the last message fully handed to the callback: the
	// rest of the message being read when it stopped comes again, nothing is lost.
	if _, err := gw.GetAll(context.Background(), "crm.lead.list", params, collect(&rest, 0),
		b24gate.ListOptions{ResumeCursor: summary.ResumeCursor}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range first {
		seen[id] = true
	}
	again := 0
	for _, id := range rest {
		if seen[id] {
			again++
		}
		seen[id] = true
	}
	println("resumed after", len(first), "leads,", len(rest), "more,", again, "of them again")
	if want := expectedLeads(t); len(seen) != want || len(first)+len(rest)-again != want || again >= len(first) {
		t.Fatalf("first %d, rest %d, again %d, distinct %d, want %d", len(first), len(rest), again, len(seen), want)
	}
}

func TestGetAllChanDeliversEveryLead(t *testing.T) {
	items, done := dial(t).GetAllChan(context.Background(), "crm.lead.list", map[string]any{"select": []string{"ID"}})
	n := 0
	for range items {
		n++
	}
	if err := <-done; err != nil || n != expectedLeads(t) {
		t.Fatalf("got %d leads, err %v", n, err)
	}
}

func TestStoppingGetAllCancelsTheStream(t *testing.T) {
	gw := dial(t)
	stop := errors.New("enough")
	n := 0
	_, err := gw.GetAll(context.Background(), "crm.lead.list", nil, func(json.RawMessage) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("want the callback's error after 10 items, got %v after %d", err, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	items, done := gw.GetAllChan(ctx, "crm.lead.list", nil)
	<-items
	cancel()
	for range items {
	}
	var e *b24gate.Error
	if err := <-done; !errors.As(err, &e) || e.GRPCCode != codes.Canceled {
		t.Fatalf("want CANCELLED, got %v", err)
	}
	if _, err := gw.Call(context.Background(), "crm.lead.list", nil); err != nil {
		t.Fatalf("gateway after cancel: %v", err)
	}
}

func TestDeadlineIsDeadlineExceeded(t *testing.T) {
	gw := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := gw.GetAll(ctx, "crm.lead.list", nil, func(json.RawMessage) error { return nil })
	var e *b24gate.Error
	if !errors.As(err, &e) || e.GRPCCode != codes.DeadlineExceeded || e.Code != "DEADLINE_EXCEEDED" {
		t.Fatalf("want DEADLINE_EXCEEDED, got %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	if _, err := gw.Call(ctx2, "crm.lead.list", nil); !errors.As(err, &e) || e.GRPCCode != codes.DeadlineExceeded {
		t.Fatalf("Call: want DEADLINE_EXCEEDED, got %v", err)
	}
}

func TestGetByIDKeepsOrderAndReportsMissingIDs(t *testing.T) {
	gw := dial(t)
	ids := firstIDs(t, gw, "crm.lead.list", 2)
	results, err := gw.GetByID(context.Background(), "crm.lead.get", []any{ids[0], ids[1], 987654321}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("want 3 results, got %d", len(results))
	}
	for i, id := range ids {
		var r record
		if results[i].Err != nil || json.Unmarshal(results[i].Result, &r) != nil || r.ID != id {
			t.Fatalf("result %d: %+v", i, results[i])
		}
	}
	var e *b24gate.Error
	if !errors.As(results[2].Err, &e) || e.GRPCCode != codes.NotFound {
		t.Fatalf("missing id: %+v", results[2])
	}
}

func TestCallManyWritesInOrder(t *testing.T) {
	gw := dial(t)
	ids := firstIDs(t, gw, "crm.deal.list", 3)
	var params []b24gate.Params
	for i, id := range ids {
		params = append(params, map[string]any{"id": id, "fields": map[string]any{"TITLE": "go call_many " + strconv.Itoa(i)}})
	}
	params = append(params, map[string]any{"id": 987654321, "fields": map[string]any{"TITLE": "nobody"}})
	results, path, err := gw.CallMany(context.Background(), "crm.deal.update", params)
	if err != nil {
		t.Fatal(err)
	}
	println("CallMany used", string(path))
	if path != b24gate.PathCallMany {
		t.Fatalf("want the CallMany RPC, got %s", path)
	}
	for i := 0; i < 3; i++ {
		if results[i].Err != nil || string(results[i].Result) != "true" {
			t.Fatalf("update %d: %+v", i, results[i])
		}
	}
	if results[3].Err == nil {
		t.Fatalf("update of a missing deal succeeded")
	}
	got, err := gw.GetByID(context.Background(), "crm.deal.get", []any{ids[0], ids[1], ids[2]}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		var deal record
		if json.Unmarshal(r.Result, &deal) != nil || deal.TITLE != "go call_many "+strconv.Itoa(i) {
			t.Fatalf("deal %s: %s", ids[i], r.Result)
		}
	}
}

func TestBatchResolvesReferencesAndHalts(t *testing.T) {
	gw := dial(t)
	results, err := gw.Batch(context.Background(), []b24gate.Command{
		{Key: "last", Method: "crm.lead.list", Params: map[string]any{"select": []string{"ID"}, "order": map[string]string{"ID": "DESC"}}},
		{Key: "lead", Method: "crm.lead.get", Params: map[string]any{"id": "$result[last][0][ID]"}},
		{Key: "bad", Method: "no.such.method"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	var last []record
	var lead record
	if json.Unmarshal(results["last"].Result, &last) != nil || json.Unmarshal(results["lead"].Result, &lead) != nil ||
		len(last) == 0 || lead.ID != last[0].ID {
		t.Fatalf("reference not resolved: %s / %s", results["last"].Result, results["lead"].Result)
	}
	var e *b24gate.Error
	if !errors.As(results["bad"].Err, &e) || e.Code != "ERROR_METHOD_NOT_FOUND" {
		t.Fatalf("bad: %+v", results["bad"])
	}
	halted, err := gw.Batch(context.Background(), []b24gate.Command{
		{Key: "bad", Method: "no.such.method"}, {Key: "next", Method: "crm.lead.list"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.As(halted["next"].Err, &e) || e.Code != "NOT_EXECUTED" {
		t.Fatalf("next: %+v", halted["next"])
	}
}

// emulatorControl calls one of the emulator's /_emulator/ endpoints.
func emulatorControl(t *testing.T, path, body string) map[string]any {
	t.Helper()
	url := os.Getenv("B24_EMULATOR_ADDR") + path
	var resp *http.Response
	var err error
	if body == "" && path == "/_emulator/stats" {
		resp, err = http.Get(url)
	} else {
		resp, err = http.Post(url, "text/plain", strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// The service config retries UNAVAILABLE for reads (GetAll) and never for
// Call, which may write. The gateway makes 2 attempts per read (max_attempts
// in servers.sh), so emulator requests = 2 x client attempts; every request
// fails with a 500 here.
func TestServiceConfigRetriesReadsOnly(t *testing.T) {
	gw := dial(t)
	emulatorControl(t, "/_emulator/faults", "500=1")
	t.Cleanup(func() { emulatorControl(t, "/_emulator/faults", "none") })
	// Requests for the method under test only: the gateway's offline reader
	// polls the queue meanwhile once a subscribe test has made a group.
	requests := func(method string) int {
		byMethod, _ := emulatorControl(t, "/_emulator/stats", "")["requests_by_method"].(map[string]any)
		n, _ := byMethod[method].(float64)
		return int(n)
	}

	emulatorControl(t, "/_emulator/reset", "x")
	started := time.Now()
	_, err := gw.GetAll(context.Background(), "crm.lead.list", nil, func(json.RawMessage) error { return nil })
	var e *b24gate.Error
	if !errors.As(err, &e) || e.GRPCCode != codes.Unavailable {
		t.Fatalf("GetAll: want UNAVAILABLE, got %v", err)
	}
	println("GetAll:", requests("crm.lead.list"), "emulator requests in", time.Since(started).Round(100*time.Millisecond).String())
	if got := requests("crm.lead.list"); got != 4*2 { // maxAttempts 4 in service-config.json
		t.Fatalf("GetAll: want 8 emulator requests (4 client attempts x 2), got %d", got)
	}

	emulatorControl(t, "/_emulator/reset", "x")
	_, err = gw.Call(context.Background(), "crm.deal.update", map[string]any{"id": 1, "fields": map[string]any{"TITLE": "once"}})
	if !errors.As(err, &e) || !e.OutcomeUnknown() || e.GRPCCode != codes.Unavailable {
		t.Fatalf("write: want OUTCOME_UNKNOWN, got %v", err)
	}
	if got := requests("crm.deal.update"); got != 1 {
		t.Fatalf("write: want exactly 1 emulator request, got %d", got)
	}
}
