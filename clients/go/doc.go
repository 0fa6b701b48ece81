// Package b24gate is the Go client of b24gate, the gRPC gateway to the
// Bitrix24 REST API: the generated stubs (package gatewayv1) behind
// context-first functions that take and return JSON.
//
//	gw, err := b24gate.Dial(ctx, "localhost:50051")
//	if err != nil { ... }
//	defer gw.Close()
//	_, err = gw.GetAll(ctx, "crm.deal.list", map[string]any{"select": []string{"ID", "TITLE"}},
//		func(deal json.RawMessage) error { fmt.Println(string(deal)); return nil })
//
// Every failure is an *Error carrying the Bitrix24 code:
//
//	var e *b24gate.Error
//	if errors.As(err, &e) && e.Code == "ACCESS_DENIED" { ... }
//
// A Gateway is safe for concurrent use by several goroutines.
package b24gate
