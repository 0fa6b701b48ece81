// The TypeScript file helpers against a real b24gate and b24-emulator
// (started by tests/clients/typescript_client_test.sh): a file uploaded from
// a path and one from a stream come back byte for byte (SHA-256), to a path
// (also resumed from an offset) and to a Writable; a file put into a deal's
// file field comes back from it identical, and one attached to a task by
// its attached object id.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, test } from "node:test";

import { Gateway } from "../../../clients/typescript/dist/index.js";

let gw;
let dir;
before(async () => {
  gw = new Gateway(process.env.B24GATE_TARGET, { token: process.env.B24GATE_TOKEN });
  dir = await mkdtemp(join(tmpdir(), "b24gate-ts-files-"));
});
after(async () => {
  gw.close();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

test("a path goes up and comes back identical, also resumed", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(dir, "scan.bin"), data);
  const progress = [];
  const up = await gw.upload(join(dir, "scan.bin"), {
    folderId: 1, generateUniqueName: true, chunkSize: 1024 * 1024, onProgress: (sent) => progress.push(sent),
    rights: [{ taskId: 42, accessCode: "U1" }], contentType: "application/pdf",
  });
  assert.equal(up.size, data.length);
  assert.equal(up.sha256, sha256(data));
  assert.deepEqual(progress, [1, 2, 3].map((n) => n * 1024 * 1024).concat(data.length));
  const back = join(dir, "back.bin");
  const got = await gw.download(Number(up.file.ID), back);
  assert.equal(got.size, data.length);
  assert.equal(got.written, data.length);
  assert.equal(got.contentType, "application/pdf");
  assert.equal(sha256(await readFile(back)), sha256(data));
  assert.equal(got.sha256, up.sha256, "the gateway's hash of what it streamed");
  await truncate(back, 1000);
  const tail = await gw.download(Number(up.file.ID), back, { offset: 1000 });
  assert.equal(tail.sha256, sha256(data.subarray(1000)), "the hash covers the part streamed");
  assert.equal(sha256(await readFile(back)), sha256(data));
});

test("a stream goes up and comes back into a Writable", async () => {
  const data = Buffer.from("0123456789".repeat(1000));
  const up = await gw.upload(Readable.from([data.subarray(0, 3000), data.subarray(3000)]), {
    storageId: 1, name: `digits-${Date.now()}.txt`, size: data.length,
  });
  const pieces = [];
  const sink = new Writable({ write(chunk, _enc, done) { pieces.push(chunk); done(); } });
  await gw.download(Number(up.file.ID), sink);
  assert.equal(sha256(Buffer.concat(pieces)), sha256(data));
});

test("a deal's file field gets the file and gives it back identical", async () => {
  const deal = await gw.call("crm.deal.add", { fields: { TITLE: "with a scan" } });
  // The emulator's file field on deals.
  const recordField = { entityType: "deal", recordId: Number(deal), field: "UF_CRM_1700000103" };
  const data = randomBytes(2 * 1024 * 1024 + 1);
  const up = await gw.upload(Readable.from([data]), { recordField, name: "scan.pdf", size: data.length });
  assert.equal(up.sha256, sha256(data));
  assert.ok(up.file.downloadUrl && !String(up.file.downloadUrl).includes("auth="), JSON.stringify(up.file));
  const pieces = [];
  const sink = new Writable({ write(chunk, _enc, done) { pieces.push(chunk); done(); } });
  const got = await gw.download(0, sink, { recordField });
  assert.equal(got.written, data.length);
  assert.equal(got.sha256, up.sha256);
  assert.equal(sha256(Buffer.concat(pieces)), sha256(data));
});

test("a file attached to a task comes back identical by its attached object id", async () => {
  const data = randomBytes(200 * 1024 + 3);
  const up = await gw.upload(Readable.from([data]), { folderId: 1, name: `attached-${Date.now()}.pdf`, size: data.length });
  const task = await gw.call("tasks.task.add", { fields: { TITLE: "Sign the scan" } });
  const attached = await gw.call("tasks.task.files.attach", { taskId: task.task.id, fileId: Number(up.file.ID) });
  const pieces = [];
  const sink = new Writable({ write(chunk, _enc, done) { pieces.push(chunk); done(); } });
  const got = await gw.download(0, sink, { attachedObjectId: Number(attached.attachmentId) });
  assert.equal(got.sha256, up.sha256);
  assert.equal(sha256(Buffer.concat(pieces)), sha256(data));
  assert.equal(got.file.ID, String(attached.attachmentId));
});
