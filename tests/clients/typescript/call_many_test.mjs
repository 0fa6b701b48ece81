// Unit tests of callMany's fallback over a fake client: a gateway that answers
// CallMany with UNIMPLEMENTED (nothing ran) gets the same parameter sets
// through Call's bulk_params, in order; any other failure is thrown and
// nothing is sent again. No servers.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { Metadata, status } from "@grpc/grpc-js";

import { BitrixError, Gateway } from "../../../clients/typescript/dist/index.js";

function fakeClient(code) {
  const fake = { callManyRequests: [], bulkRequests: [] };
  fake.callMany = (request) => {
    fake.callManyRequests.push(request);
    const stream = Readable.from((async function* () {
      throw Object.assign(new Error("fake"), { code, details: "fake", metadata: new Metadata() });
    })());
    stream.cancel = () => stream.destroy();
    return stream;
  };
  fake.call = (request, metadata, options, callback) => {
    fake.bulkRequests.push(request);
    callback(null, { results: request.bulkParams.map((p) => p.id < 0
      ? { error: { code: "NOT_FOUND", description: "no", grpcCode: status.NOT_FOUND } }
      : { result: p.id * 10 }) });
  };
  fake.close = () => {};
  return fake;
}

function gatewayWith(fake) {
  const gw = new Gateway("127.0.0.1:1");  // never dialled: the fake answers
  gw.client.close();
  gw.client = fake;
  return gw;
}

test("UNIMPLEMENTED falls back to Call with bulk_params, in order", async () => {
  const fake = fakeClient(status.UNIMPLEMENTED);
  const gw = gatewayWith(fake);
  const results = await gw.callMany("crm.deal.get", [{ id: 1 }, { id: -1 }, { id: 3 }]);
  assert.equal(gw.callManyPath, "Call");
  assert.equal(results[0], 10);
  assert.ok(results[1] instanceof BitrixError && results[1].grpcCode === status.NOT_FOUND);
  assert.equal(results[2], 30);
  assert.deepEqual(fake.callManyRequests[0].paramsJson, ['{"id":1}', '{"id":-1}', '{"id":3}']);
});

test("other failures are thrown and nothing is sent again", async () => {
  for (const code of [status.UNAVAILABLE, status.INVALID_ARGUMENT, status.CANCELLED]) {
    const fake = fakeClient(code);
    await assert.rejects(gatewayWith(fake).callMany("crm.deal.add", [{ id: 1 }]),
      (e) => e instanceof BitrixError && e.grpcCode === code);
    assert.equal(fake.bulkRequests.length, 0);
  }
});
