// Unit tests of GetAll's resumption (ListReader) over fake streams: a stream
// broken by UNAVAILABLE continues from its last resume cursor; other breaks,
// or breaks before any cursor, are thrown. No servers.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { Metadata, status } from "@grpc/grpc-js";

import { BitrixError, ListReader } from "../../../clients/typescript/dist/index.js";

const message = (cursor, ...items) => ({ items, resumeCursor: cursor });

// Each start() plays the next script: messages, then an error code (or the end).
function fakeStart(scripts) {
  const cursors = [];
  const start = (cursor) => {
    cursors.push(cursor);
    const { messages, code } = scripts.shift();
    const stream = Readable.from((async function* () {
      yield* messages;
      if (code !== undefined) throw Object.assign(new Error("fake"), { code, details: "fake", metadata: new Metadata() });
    })());
    stream.cancel = () => stream.destroy();
    return stream;
  };
  return { start, cursors };
}

async function readAll(reader) {
  const items = [];
  for await (const item of reader) items.push(item);
  return items;
}

test("UNAVAILABLE after a cursor continues from the latest cursor", async () => {
  const { start, cursors } = fakeStart([
    { messages: [message("c1", 1, 2)], code: status.UNAVAILABLE },
    { messages: [message("c2", 3)], code: status.UNAVAILABLE },
    { messages: [message("c3", 4)] },
  ]);
  const reader = new ListReader(start, {}, () => 1);
  assert.deepEqual(await readAll(reader), [1, 2, 3, 4]);
  assert.deepEqual(cursors, ["", "c1", "c2"]);
  assert.equal(reader.resumes, 2);
});

test("UNAVAILABLE before any cursor is thrown", async () => {
  const { start, cursors } = fakeStart([{ messages: [message("", 1)], code: status.UNAVAILABLE }]);
  await assert.rejects(readAll(new ListReader(start, {}, () => 1)),
    (e) => e instanceof BitrixError && e.grpcCode === status.UNAVAILABLE);
  assert.equal(cursors.length, 1);
});

test("other codes are thrown", async () => {
  for (const code of [status.DEADLINE_EXCEEDED, status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]) {
    const { start, cursors } = fakeStart([{ messages: [message("c1", 1)], code }]);
    await assert.rejects(readAll(new ListReader(start, {}, () => 1)), (e) => e.grpcCode === code);
    assert.equal(cursors.length, 1);
  }
});

test("maxResumes bounds the attempts; 0 never resumes", async () => {
  const broken = () => Array.from({ length: 5 }, () => ({ messages: [message("c", 1)], code: status.UNAVAILABLE }));
  let fake = fakeStart(broken());
  const reader = new ListReader(fake.start, { maxResumes: 2 }, () => 1);
  await assert.rejects(readAll(reader));
  assert.equal(fake.cursors.length, 3);
  assert.equal(reader.resumes, 2);
  fake = fakeStart(broken());
  await assert.rejects(readAll(new ListReader(fake.start, { maxResumes: 0 }, () => 1)));
  assert.equal(fake.cursors.length, 1);
});

test("a read started from a cursor sends it", async () => {
  const { start, cursors } = fakeStart([{ messages: [message("c9", 7)] }]);
  assert.deepEqual(await readAll(new ListReader(start, { resumeCursor: "c8" })), [7]);
  assert.deepEqual(cursors, ["c8"]);
});

test("the cursor moves when its message's last item is yielded", async () => {
  const { start } = fakeStart([{ messages: [message("c1", 1, 2), message("c2", 3)] }]);
  const reader = new ListReader(start);
  const seen = [];
  for await (const item of reader) seen.push([item, reader.resumeCursor]);
  assert.deepEqual(seen, [[1, ""], [2, "c1"], [3, "c2"]]);
});
