// The Go file helpers against a real b24gate and b24-emulator: a file
// uploaded from a path and one from a reader come back byte for byte
// (SHA-256), to a path and to a writer; a file put into a deal's file field
// comes back from it identical, and one attached to a task by its attached
// object id.
package clients_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	b24gate "b24gate/clients/go"
)

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestUploadThenDownloadIsByteIdentical(t *testing.T) {
	gw := dial(t)
	ctx := context.Background()
	data := make([]byte, 3<<20+17)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "scan.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var progress []int64
	up, err := gw.UploadFile(ctx, src, b24gate.UploadOptions{FolderID: 1, GenerateUniqueName: true,
		Rights: []b24gate.DriveRight{{TaskID: 42, AccessCode: "U1"}}, ContentType: "application/pdf",
		ChunkSize: 1 << 20, Progress: func(sent int64) { progress = append(progress, sent) }})
	if err != nil {
		t.Fatal(err)
	}
	if up.Size != int64(len(data)) || up.SHA256 != sha(data) {
		t.Fatalf("upload: %d bytes, %s", up.Size, up.SHA256)
	}
	if len(progress) != 4 || progress[3] != int64(len(data)) {
		t.Errorf("progress %v", progress)
	}
	var file struct{ ID json.Number }
	if err := json.Unmarshal(up.File, &file); err != nil {
		t.Fatal(err)
	}
	id, _ := file.ID.Int64()

	back := filepath.Join(dir, "back.bin")
	got, err := gw.DownloadFile(ctx, id, back)
	if err != nil {
		t.Fatal(err)
	}
	read, _ := os.ReadFile(back)
	if sha(read) != sha(data) || got.Size != int64(len(data)) || got.Written != int64(len(data)) {
		t.Fatalf("downloaded %d bytes (header %d), sha %s", len(read), got.Size, sha(read))
	}
	if got.ContentType != "application/pdf" {
		t.Errorf("content type %q", got.ContentType)
	}
	// The gateway's hash of what it streamed, checked by the helper.
	if got.SHA256 != up.SHA256 {
		t.Errorf("download sha %q, upload sha %q", got.SHA256, up.SHA256)
	}
	// Resumed into a file cut at an offset: the hash covers the part streamed.
	if err := os.Truncate(back, 1000); err != nil {
		t.Fatal(err)
	}
	tail, err := gw.DownloadFile(ctx, id, back, b24gate.DownloadOptions{Offset: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if tail.SHA256 != sha(data[1000:]) {
		t.Errorf("resumed download sha %q", tail.SHA256)
	}
	if read, _ = os.ReadFile(back); sha(read) != sha(data) {
		t.Fatalf("resumed download: %d bytes, sha %s", len(read), sha(read))
	}

	// A reader up, a writer down.
	small := bytes.Repeat([]byte("0123456789"), 1000)
	up, err = gw.Upload(ctx, bytes.NewReader(small), b24gate.UploadOptions{StorageID: 1,
		Name: fmt.Sprintf("digits-%d.txt", time.Now().UnixNano()), Size: int64(len(small))})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(up.File, &file); err != nil {
		t.Fatal(err)
	}
	id, _ = file.ID.Int64()
	var sink bytes.Buffer
	if _, err := gw.Download(ctx, id, &sink); err != nil {
		t.Fatal(err)
	}
	if sha(sink.Bytes()) != sha(small) {
		t.Fatalf("reader/writer round trip: %d bytes", sink.Len())
	}
}

// A file into a deal's file field (streamed as base64 by the gateway) and
// back from it: byte for byte, the field's link without its authorization.
func TestRecordFieldGoesUpAndComesBackIdentical(t *testing.T) {
	gw := dial(t)
	ctx := context.Background()
	raw, err := gw.Call(ctx, "crm.deal.add", map[string]any{"fields": map[string]any{"TITLE": "with a scan"}})
	if err != nil {
		t.Fatal(err)
	}
	var deal int64
	if err := json.Unmarshal(raw, &deal); err != nil {
		t.Fatalf("crm.deal.add answered %s", raw)
	}
	field := &b24gate.RecordField{EntityType: "deal", RecordID: deal,
		Field: "UF_CRM_1700000103"} // the emulator's file field on deals
	data := make([]byte, 2<<20+1)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	up, err := gw.Upload(ctx, bytes.NewReader(data), b24gate.UploadOptions{RecordField: field,
		Name: "scan.pdf", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	var value struct {
		DownloadURL string `json:"downloadUrl"`
	}
	if err := json.Unmarshal(up.File, &value); err != nil || value.DownloadURL == "" ||
		bytes.Contains([]byte(value.DownloadURL), []byte("auth=")) {
		t.Fatalf("the field's value %s", up.File)
	}
	if up.SHA256 != sha(data) {
		t.Fatalf("upload: sha %s", up.SHA256)
	}
	var sink bytes.Buffer
	got, err := gw.Download(ctx, 0, &sink, b24gate.DownloadOptions{RecordField: field})
	if err != nil {
		t.Fatal(err)
	}
	if sha(sink.Bytes()) != sha(data) || got.Written != int64(len(data)) || got.SHA256 != up.SHA256 {
		t.Fatalf("field round trip: %d bytes, sha %s, the gateway's %s", sink.Len(), sha(sink.Bytes()), got.SHA256)
	}
}

// A Drive file attached to a task (tasks.task.files.attach) and back by the
// attachment's id: byte for byte.
func TestAnAttachedObjectComesBackIdentical(t *testing.T) {
	gw := dial(t)
	ctx := context.Background()
	data := make([]byte, 200<<10+3)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	up, err := gw.Upload(ctx, bytes.NewReader(data), b24gate.UploadOptions{FolderID: 1,
		Name: fmt.Sprintf("attached-%d.pdf", time.Now().UnixNano()), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ ID json.Number }
	if err := json.Unmarshal(up.File, &file); err != nil {
		t.Fatal(err)
	}
	fileID, _ := file.ID.Int64()
	raw, err := gw.Call(ctx, "tasks.task.add", map[string]any{"fields": map[string]any{"TITLE": "Sign the scan"}})
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		Task struct{ ID json.Number } `json:"task"`
	}
	if err := json.Unmarshal(raw, &task); err != nil {
		t.Fatalf("tasks.task.add answered %s", raw)
	}
	raw, err = gw.Call(ctx, "tasks.task.files.attach", map[string]any{"taskId": task.Task.ID, "fileId": fileID})
	if err != nil {
		t.Fatal(err)
	}
	var attached struct {
		AttachmentID int64 `json:"attachmentId"`
	}
	if err := json.Unmarshal(raw, &attached); err != nil || attached.AttachmentID == 0 {
		t.Fatalf("tasks.task.files.attach answered %s", raw)
	}
	var sink bytes.Buffer
	got, err := gw.Download(ctx, 0, &sink, b24gate.DownloadOptions{AttachedObjectID: attached.AttachmentID})
	if err != nil {
		t.Fatal(err)
	}
	if sha(sink.Bytes()) != sha(data) || got.SHA256 != up.SHA256 {
		t.Fatalf("attached object round trip: %d bytes, sha %s, the gateway's %s", sink.Len(), sha(sink.Bytes()), got.SHA256)
	}
}
