package b24gate

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"b24gate/clients/go/gatewayv1"
)

// Error is a Bitrix24 or gateway error: of a whole RPC (returned as error), or
// of one item of CallMany, Batch or GetByID (in the item's Err).
type Error struct {
	// The Bitrix24 code ("ERROR_METHOD_NOT_FOUND", "ACCESS_DENIED"; "" for old
	// CRM methods), a gateway reason ("OUTCOME_UNKNOWN", "NOT_EXECUTED"), or the
	// gRPC code name when the status carried no ErrorInfo (a client-side
	// deadline, an unreachable gateway).
	Code        string
	Description string
	GRPCCode    codes.Code
	// "bitrix24.com" for portal errors, "b24gate" for the gateway's, "" when
	// the status carried no ErrorInfo.
	Domain   string
	Metadata map[string]string
	// The fields a REST 3.0 method refused (INVALID_ARGUMENT), or the request
	// fields the gateway did: the status's google.rpc.BadRequest.
	FieldViolations []FieldViolation
}

// FieldViolation is one entry of a google.rpc.BadRequest.
type FieldViolation struct {
	Field       string
	Description string
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = codeName(e.GRPCCode)
	}
	return fmt.Sprintf("b24gate: %s: %s", code, e.Description)
}

// OutcomeUnknown reports a write that may have run: never repeat it blindly.
func (e *Error) OutcomeUnknown() bool { return e.Code == "OUTCOME_UNKNOWN" }

// GRPCStatus lets status.FromError and status.Code see the gRPC code.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.GRPCCode, e.Description) }

// fromRPC converts an RPC's error into an *Error, reading the
// google.rpc.ErrorInfo the gateway puts in the status details.
func fromRPC(err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	var violations []FieldViolation
	for _, detail := range s.Details() {
		if bad, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range bad.GetFieldViolations() {
				violations = append(violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	for _, detail := range s.Details() {
		info, ok := detail.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		code := info.GetReason()
		// Old CRM methods have no code; the gateway names them CRM_ERROR and
		// keeps the code as sent in bitrix_error.
		if sent, ok := info.GetMetadata()["bitrix_error"]; ok && info.GetDomain() == "bitrix24.com" {
			code = sent
		}
		description := s.Message()
		if d, ok := info.GetMetadata()["description"]; ok {
			description = d
		}
		return &Error{Code: code, Description: description, GRPCCode: s.Code(),
			Domain: info.GetDomain(), Metadata: info.GetMetadata(), FieldViolations: violations}
	}
	return &Error{Code: codeName(s.Code()), Description: s.Message(), GRPCCode: s.Code(),
		FieldViolations: violations}
}

func fromCommandError(e *gatewayv1.CommandError) *Error {
	return &Error{Code: e.GetCode(), Description: e.GetDescription(), GRPCCode: codes.Code(e.GetGrpcCode())}
}

// contextError is the *Error of a cancelled or expired ctx noticed by the
// client itself, with the code gRPC would have given it.
func contextError(err error) error {
	code := codes.Canceled
	if errors.Is(err, context.DeadlineExceeded) {
		code = codes.DeadlineExceeded
	}
	return &Error{Code: codeName(code), Description: err.Error(), GRPCCode: code}
}

// codeName is the canonical name of a gRPC code ("DEADLINE_EXCEEDED"), as
// the gateway and the other clients write it; codes.Code.String() gives Go's
// own spelling ("DeadlineExceeded").
func codeName(c codes.Code) string {
	names := [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
		"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
		"UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if int(c) < len(names) {
		return names[c]
	}
	return c.String()
}
