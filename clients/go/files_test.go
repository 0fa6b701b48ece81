package b24gate

import (
	"bytes"
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
// what the gateway hashed (corrupted, cut, or grown on the way) is an error.

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
