// Unit tests of download's check over a fake client: the bytes written are
// compared with the gateway's summary, and a stream whose bytes differ from
// what the gateway hashed (corrupted, cut, or grown on the way) is thrown as
// CHECKSUM_MISMATCH; the file is asked for by id, attached object or record
// field, exactly one of them. No servers.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";

import { BitrixError, Gateway } from "../../../clients/typescript/dist/index.js";

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

// A download of "0123456789" whose chunks are `chunks`; the summary is the
// gateway's, of the true bytes (none when !summary).
function gatewayStreaming(chunks, summary = true, requests = []) {
  const gw = new Gateway("127.0.0.1:1", { portal: "main" });  // never dialled: the fake answers
  gw.files.close();
  gw.files = {
    downloadFile: (request) => {
      requests.push(request);
      const messages = [{ header: { name: "a.bin", size: 10, contentType: "" } },
        ...chunks.map((c) => ({ chunk: Buffer.from(c) }))];
      if (summary) messages.push({ summary: { size: 10, sha256: sha256("0123456789") } });
      const stream = Readable.from(messages);
      stream.cancel = () => stream.destroy();
      return stream;
    },
    close: () => {},
  };
  return gw;
}

function sink(pieces) {
  return new Writable({ write(chunk, _enc, done) { pieces.push(chunk); done(); } });
}

test("the bytes are checked against the gateway's summary", async () => {
  const pieces = [];
  const got = await gatewayStreaming(["0123", "456789"]).download(7, sink(pieces));
  assert.equal(Buffer.concat(pieces).toString(), "0123456789");
  assert.equal(got.written, 10);
  assert.equal(got.sha256, sha256("0123456789"));
});

test("a corrupted, cut or grown download is CHECKSUM_MISMATCH", async () => {
  for (const chunks of [["0123", "456788"], ["0123", "45678"], ["0123", "456789", "x"]]) {
    await assert.rejects(gatewayStreaming(chunks).download(7, sink([])),
      (e) => e instanceof BitrixError && e.code === "CHECKSUM_MISMATCH" && e.grpcCode === status.DATA_LOSS,
      JSON.stringify(chunks));
  }
});

test("a download without a summary has no hash", async () => {
  const got = await gatewayStreaming(["0123456789"], false).download(7, sink([]));
  assert.equal(got.sha256, "");
  assert.equal(got.written, 10);
});

test("a download by attached object id asks for that object's file", async () => {
  const requests = [];
  const pieces = [];
  const got = await gatewayStreaming(["0123456789"], true, requests).download(0, sink(pieces), { attachedObjectId: 12 });
  assert.equal(requests.length, 1);
  assert.equal(requests[0].portal, "main");
  assert.equal(requests[0].attachedObjectId, 12);
  assert.equal(requests[0].fileId, 0);
  assert.equal(requests[0].recordField, undefined);
  assert.equal(Buffer.concat(pieces).toString(), "0123456789");
  assert.equal(got.written, 10);
});

test("a download names exactly one file", async () => {
  const requests = [];
  const gw = gatewayStreaming(["0123456789"], true, requests);
  const field = { entityType: "deal", recordId: 1, field: "UF_CRM_FILE", index: 0, entityTypeId: 0, append: false };
  for (const [fileId, options] of [[0, {}], [7, { attachedObjectId: 12 }],
    [0, { attachedObjectId: 12, recordField: field }]]) {
    await assert.rejects(gw.download(fileId, sink([]), options), TypeError, JSON.stringify([fileId, options]));
  }
  assert.equal(requests.length, 0);
  await gw.download(7, sink([]));
  assert.equal(requests[0].fileId, 7);
  assert.equal(requests[0].attachedObjectId, 0);
});
