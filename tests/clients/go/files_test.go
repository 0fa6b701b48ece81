// The Go file helpers against a real b24gate and b24-emulator: a file
// uploaded from a path and one from a reader come back byte for byte
// (SHA-256), to a path and to a writer.
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
	// Resumed into a file cut at an offset.
	if err := os.Truncate(back, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.DownloadFile(ctx, id, back, b24gate.DownloadOptions{Offset: 1000}); err != nil {
		t.Fatal(err)
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
