package b24gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"b24gate/clients/go/gatewayv1"
)

var errNotDialed = errors.New("b24gate: FilesService needs a Gateway made by Dial")

// chunkSize is the default bytes per message: well below gRPC's 4 MiB limit.
const chunkSize = 1 << 20

// RecordField names a file field of one CRM record: Upload writes the file
// into it (crm.<entity>.update), Download reads it back (crm.<entity>.get).
type RecordField struct {
	EntityType string // "deal", "lead", "contact", "company", or "item" (crm.item.*)
	RecordID   int64
	Field      string // the field's code, e.g. "UF_CRM_1638795037"
	Index      int32  // Download from a multiple field: which of its files (0 = the first)
	// EntityType "item" only: the record's entityTypeId (a smart process's).
	EntityTypeID int64
	// Upload into a multiple field: add the file to those it holds (else it
	// holds only this one afterwards).
	Append bool
}

func (f *RecordField) proto() *gatewayv1.RecordFileField {
	return &gatewayv1.RecordFileField{EntityType: f.EntityType, RecordId: f.RecordID, Field: f.Field,
		Index: f.Index, EntityTypeId: f.EntityTypeID, Append: f.Append}
}

// DriveRight is an access right on a Drive upload: an access level
// (TaskID, as disk.rights.getTasks lists them) for whom AccessCode names
// ("U35", "G2", "DR12", "AU", ...).
type DriveRight struct {
	TaskID     int64
	AccessCode string
}

// UploadOptions say where Upload puts the file; exactly one of FolderID,
// StorageID and RecordField is set.
type UploadOptions struct {
	FolderID  int64 // a Drive folder (disk.folder.uploadfile)
	StorageID int64 // a storage's root (disk.storage.uploadfile)
	// A CRM record's file field: its value becomes this one file.
	RecordField *RecordField
	Name        string
	// Rename to "name (1).ext" when the name is taken, instead of failing.
	GenerateUniqueName bool
	// A Drive upload only: the file's access rights and media type ("" =
	// application/octet-stream).
	Rights      []DriveRight
	ContentType string
	// The bytes the reader will give, when known (> 0): the gateway then
	// refuses a stream of another length and stores nothing.
	Size      int64
	ChunkSize int // bytes per message; 0 = 1 MiB
	// Progress, when set, is called after each chunk with the bytes sent so far.
	Progress func(sent int64)
}

// UploadResult is what the gateway stored.
type UploadResult struct {
	// Bitrix24's file object (ID, NAME, SIZE, ...); for a record's field,
	// the field's value (id, showUrl, downloadUrl without its auth).
	File   json.RawMessage
	Size   int64
	SHA256 string // lower-case hex, checked against the bytes read
}

// UploadFile uploads the file at path (FilesService.UploadFile); Name and
// Size default to the file's.
func (g *Gateway) UploadFile(ctx context.Context, path string, opts UploadOptions) (*UploadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	if opts.Size == 0 {
		info, err := f.Stat()
		if err != nil {
			return nil, err
		}
		opts.Size = info.Size()
	}
	return g.Upload(ctx, f, opts)
}

// Upload streams r to its end into the Drive, a chunk at a time, and checks
// the gateway's SHA-256 against the bytes read (an *Error with Code
// CHECKSUM_MISMATCH otherwise).
func (g *Gateway) Upload(ctx context.Context, r io.Reader, opts UploadOptions) (*UploadResult, error) {
	if g.files == nil {
		return nil, errNotDialed
	}
	header := &gatewayv1.UploadFileHeader{Portal: g.portal, Name: opts.Name,
		GenerateUniqueName: opts.GenerateUniqueName, ContentType: opts.ContentType}
	for _, r := range opts.Rights {
		header.Rights = append(header.Rights, &gatewayv1.DriveRight{TaskId: r.TaskID, AccessCode: r.AccessCode})
	}
	targets := 0
	if opts.FolderID != 0 {
		targets++
		header.Target = &gatewayv1.UploadFileHeader_FolderId{FolderId: opts.FolderID}
	}
	if opts.StorageID != 0 {
		targets++
		header.Target = &gatewayv1.UploadFileHeader_StorageId{StorageId: opts.StorageID}
	}
	if opts.RecordField != nil {
		targets++
		header.Target = &gatewayv1.UploadFileHeader_RecordField{RecordField: opts.RecordField.proto()}
	}
	if targets != 1 {
		return nil, errors.New("b24gate: Upload: set exactly one of FolderID, StorageID and RecordField")
	}
	if opts.Size > 0 {
		header.Size = &opts.Size
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed read ends the stream without a response
	stream, err := g.files.UploadFile(ctx)
	if err != nil {
		return nil, fromRPC(err)
	}
	digest := sha256.New()
	if err := sendChunks(stream, header, io.TeeReader(r, digest), opts); err != nil {
		return nil, err
	}
	response, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fromRPC(err)
	}
	if sum := hex.EncodeToString(digest.Sum(nil)); response.Sha256 != sum {
		return nil, &Error{Code: "CHECKSUM_MISMATCH", GRPCCode: codes.DataLoss,
			Description: "the gateway's SHA-256 of the upload differs from what was sent"}
	}
	return &UploadResult{File: toJSON(structpb.NewStructValue(response.File)), Size: response.Size,
		SHA256: response.Sha256}, nil
}

func sendChunks(stream gatewayv1.FilesService_UploadFileClient, header *gatewayv1.UploadFileHeader,
	r io.Reader, opts UploadOptions) error {
	if err := stream.Send(&gatewayv1.UploadFileRequest{Part: &gatewayv1.UploadFileRequest_Header{Header: header}}); err != nil {
		_, err = stream.CloseAndRecv() // the gateway's reason
		return fromRPC(err)
	}
	size := opts.ChunkSize
	if size <= 0 {
		size = chunkSize
	}
	buf := make([]byte, size)
	var sent int64
	for {
		n, readErr := io.ReadFull(r, buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...) // Send may keep it until it is written
			if err := stream.Send(&gatewayv1.UploadFileRequest{Part: &gatewayv1.UploadFileRequest_Chunk{Chunk: chunk}}); err != nil {
				_, err = stream.CloseAndRecv()
				return fromRPC(err)
			}
			sent += int64(n)
			if opts.Progress != nil {
				opts.Progress(sent)
			}
		}
		if readErr == io.EOF || readErr == io.ErrUnexpectedEOF {
			return nil
		}
		if readErr != nil {
			return readErr
		}
	}
}

// DownloadOptions are the optional settings of Download.
type DownloadOptions struct {
	Offset int64 // resume from this byte (the portal must honour ranges)
	// The file in a CRM record's file field instead of a Drive file (the
	// file ID is then 0).
	RecordField *RecordField
	// The file of an attached object (a file's attachment to a task,
	// comment or other record, as the record lists it) instead of a Drive
	// file (the file ID is then 0).
	AttachedObjectID int64
	// Progress, when set, is called after each chunk with the bytes written
	// so far and the file's size (-1 when the portal did not say).
	Progress func(written, total int64)
}

// DownloadResult describes the downloaded file.
type DownloadResult struct {
	Name    string
	Size    int64           // the whole file's size; -1 when the portal did not say
	File    json.RawMessage // Bitrix24's file object
	Written int64           // bytes written to w
	// The media type the portal serves the file with ("" when it names none).
	ContentType string
	// The gateway's SHA-256 (lower-case hex) of the bytes written to w (for
	// a resumed download, those from Offset on), checked against them; ""
	// from a gateway that predates it.
	SHA256 string
}

// DownloadFile downloads a Drive file (or with RecordField or
// AttachedObjectID, fileID 0, a record's file or an attached object's) into
// path: created, or cut at Offset and continued there.
func (g *Gateway) DownloadFile(ctx context.Context, fileID int64, path string, opts ...DownloadOptions) (*DownloadResult, error) {
	var offset int64
	if len(opts) > 0 {
		offset = opts[0].Offset
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(offset); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	result, err := g.Download(ctx, fileID, f, opts...)
	if closeErr := f.Close(); err == nil && closeErr != nil {
		return nil, closeErr
	}
	return result, err
}

// Download streams a Drive file's bytes (FilesService.DownloadFile) into w;
// with RecordField (fileID 0), the file in that record's field; with
// AttachedObjectID (fileID 0), that attached object's file. Exactly one of
// the three is set. The bytes are checked against the gateway's count and
// SHA-256 of what it sent (an *Error with Code CHECKSUM_MISMATCH otherwise).
func (g *Gateway) Download(ctx context.Context, fileID int64, w io.Writer, opts ...DownloadOptions) (*DownloadResult, error) {
	if g.files == nil {
		return nil, errNotDialed
	}
	var o DownloadOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	targets := 0
	for _, set := range []bool{fileID != 0, o.AttachedObjectID != 0, o.RecordField != nil} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		return nil, errors.New("b24gate: Download: set exactly one of fileID, AttachedObjectID and RecordField")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed write stops the transfer
	request := &gatewayv1.DownloadFileRequest{Portal: g.portal, FileId: fileID,
		AttachedObjectId: o.AttachedObjectID, Offset: o.Offset}
	if o.RecordField != nil {
		request.RecordField = o.RecordField.proto()
	}
	stream, err := g.files.DownloadFile(ctx, request)
	if err != nil {
		return nil, fromRPC(err)
	}
	return receive(stream, w, o)
}

// receive writes the stream's chunks to w, hashing them, and checks them
// against the summary that ends the stream.
func receive(stream gatewayv1.FilesService_DownloadFileClient, w io.Writer, o DownloadOptions) (*DownloadResult, error) {
	result := &DownloadResult{Size: -1}
	digest := sha256.New()
	var summary *gatewayv1.DownloadFileSummary
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			if err := checkSummary(summary, digest, result); err != nil {
				return nil, err
			}
			return result, nil
		}
		if err != nil {
			return nil, fromRPC(err)
		}
		if h := m.GetHeader(); h != nil {
			result.Name, result.Size, result.ContentType = h.Name, h.Size, h.ContentType
			result.File = toJSON(structpb.NewStructValue(h.File))
			continue
		}
		if s := m.GetSummary(); s != nil {
			summary = s
			continue
		}
		digest.Write(m.GetChunk())
		n, err := w.Write(m.GetChunk())
		result.Written += int64(n)
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(result.Written, result.Size)
		}
	}
}

// checkSummary compares what was received with what the gateway says it
// sent; no summary (an older gateway) leaves SHA256 empty.
func checkSummary(s *gatewayv1.DownloadFileSummary, digest hash.Hash, result *DownloadResult) error {
	if s == nil {
		return nil
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	if s.Sha256 != sum || s.Size != result.Written {
		return &Error{Code: "CHECKSUM_MISMATCH", GRPCCode: codes.DataLoss,
			Description: fmt.Sprintf("the bytes received (%d, SHA-256 %s) differ from those the gateway sent (%d, SHA-256 %s)",
				result.Written, sum, s.Size, s.Sha256)}
	}
	result.SHA256 = s.Sha256
	return nil
}
