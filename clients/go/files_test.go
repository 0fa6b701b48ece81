package b24gate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"b24gate/clients/go/gatewayv1"
)

// Unit tests of Download's check over fake streams: the bytes written are
// compared with the gateway's summary, and a stream whose bytes differ from
// what the gateway hashed (corrupted, cut, or grown on the way) is an error;
// and of the file Download asks for: by ID, attached object or record field,
// exactly one of them.

type fakeDownload struct {
	grpc.ClientStream
	messages []*gatewayv1.DownloadFileResponse
}

func (f *fakeDownload) Recv() (*gatewayv1.DownloadFileResponse, error) {
	if len(f.messages) == 0 {
		return nil, io.EOF
	}
	m := f.messages[0]
	f.messages = f.messages[1:]
	return m, nil
}

// A download of "0123456789" whose chunks are `chunks`; the summary is the
// gateway's, of the true bytes (none when !summary).
func stream(summary bool, chunks ...string) *fakeDownload {
	f := &fakeDownload{messages: []*gatewayv1.DownloadFileResponse{{Part: &gatewayv1.DownloadFileResponse_Header{
		Header: &gatewayv1.DownloadFileHeader{Name: "a.bin", Size: 10}}}}}
	for _, c := range chunks {
		f.messages = append(f.messages, &gatewayv1.DownloadFileResponse{Part: &gatewayv1.DownloadFileResponse_Chunk{Chunk: []byte(c)}})
	}
	if summary {
		sum := sha256.Sum256([]byte("0123456789"))
		f.messages = append(f.messages, &gatewayv1.DownloadFileResponse{Part: &gatewayv1.DownloadFileResponse_Summary{
			Summary: &gatewayv1.DownloadFileSummary{Size: 10, Sha256: hex.EncodeToString(sum[:])}}})
	}
	return f
}

func TestDownloadChecksTheBytesAgainstTheGatewaysSummary(t *testing.T) {
	var sink bytes.Buffer
	got, err := receive(stream(true, "0123", "456789"), &sink, DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("0123456789"))
	if sink.String() != "0123456789" || got.Written != 10 || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("wrote %q (%d), sha %q", sink.String(), got.Written, got.SHA256)
	}
}

func TestACorruptedDownloadIsAnError(t *testing.T) {
	for _, chunks := range [][]string{{"0123", "456788"}, {"0123", "45678"}, {"0123", "456789", "x"}} {
		_, err := receive(stream(true, chunks...), io.Discard, DownloadOptions{})
		var e *Error
		if !errors.As(err, &e) || e.Code != "CHECKSUM_MISMATCH" || e.GRPCCode != codes.DataLoss {
			t.Errorf("%q: %v", chunks, err)
		}
	}
}

func TestADownloadWithoutASummaryHasNoHash(t *testing.T) {
	got, err := receive(stream(false, "0123456789"), io.Discard, DownloadOptions{})
	if err != nil || got.SHA256 != "" || got.Written != 10 {
		t.Fatalf("%+v, %v", got, err)
	}
}

// A FilesService client whose DownloadFile records the request and streams
// "0123456789".
type fakeFiles struct {
	gatewayv1.FilesServiceClient
	requests []*gatewayv1.DownloadFileRequest
}

func (f *fakeFiles) DownloadFile(_ context.Context, in *gatewayv1.DownloadFileRequest, _ ...grpc.CallOption) (gatewayv1.FilesService_DownloadFileClient, error) {
	f.requests = append(f.requests, in)
	return stream(true, "0123456789"), nil
}

func TestDownloadByAttachedObjectID(t *testing.T) {
	files := &fakeFiles{}
	g := &Gateway{portal: "main", files: files}
	var sink bytes.Buffer
	got, err := g.Download(context.Background(), 0, &sink, DownloadOptions{AttachedObjectID: 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(files.requests) != 1 {
		t.Fatalf("%d requests", len(files.requests))
	}
	r := files.requests[0]
	if r.Portal != "main" || r.AttachedObjectId != 12 || r.FileId != 0 || r.RecordField != nil {
		t.Fatalf("asked for %v", r)
	}
	if sink.String() != "0123456789" || got.Written != 10 {
		t.Fatalf("wrote %q (%d)", sink.String(), got.Written)
	}
}

func TestDownloadNamesExactlyOneFile(t *testing.T) {
	files := &fakeFiles{}
	g := &Gateway{portal: "main", files: files}
	field := &RecordField{EntityType: "deal", RecordID: 1, Field: "UF_CRM_FILE"}
	for _, c := range []struct {
		fileID int64
		o      DownloadOptions
	}{{0, DownloadOptions{}}, {7, DownloadOptions{AttachedObjectID: 12}},
		{0, DownloadOptions{AttachedObjectID: 12, RecordField: field}}} {
		if _, err := g.Download(context.Background(), c.fileID, io.Discard, c.o); err == nil {
			t.Errorf("file %d, %+v: no error", c.fileID, c.o)
		}
	}
	if len(files.requests) != 0 {
		t.Fatalf("%d requests sent", len(files.requests))
	}
	if _, err := g.Download(context.Background(), 7, io.Discard); err != nil || files.requests[0].FileId != 7 {
		t.Fatalf("%v, %v", err, files.requests)
	}
}
