// The TypeScript subscribe helper against a real b24gate and b24-emulator
// (started by tests/clients/typescript_client_test.sh): deals added through
// the gateway arrive in `for await`; acknowledged events are never delivered
// again. Events of other tests' deals may arrive too: they are acknowledged
// and otherwise ignored.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Gateway } from "../../../clients/typescript/dist/index.js";

let gw;
before(() => {
  gw = new Gateway(process.env.B24GATE_TARGET, { token: process.env.B24GATE_TOKEN });
});
after(() => gw.close());

// A method's result, asked of the emulator itself (not through the gateway).
async function rest(method) {
  const response = await fetch(process.env.B24_EMULATOR_URL + method);
  return (await response.json()).result;
}

async function waitUntil(what, ok) {
  for (let i = 0; i < 300; i++) {
    if (await ok()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`waited 30 s for ${what}`);
}

const addDeal = async (title) => String(await gw.call("crm.deal.add", { fields: { TITLE: title } }));

// Acknowledges every event until all of `ids` arrived, then `then()` before
// the loop is left; returns what arrived.
async function takeUntil(subscription, ids, then = async () => {}) {
  const waiting = new Set(ids);
  const got = [];
  for await (const event of subscription) {
    event.ack();
    got.push(event);
    waiting.delete(event.recordId);
    if (waiting.size === 0) {
      await then(got);
      return got;
    }
  }
  assert.fail(`the stream ended before records ${[...waiting]} arrived`);
}

test("subscribe delivers writes and acknowledged events never return", async () => {
  const first = gw.subscribe("ts-client", ["ONCRMDEALADD"], { timeoutMs: 60_000 });
  await waitUntil("ONCRMDEALADD bound", async () => (await rest("event.get")).some((b) => b.event === "ONCRMDEALADD"));
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(await addDeal(`ts ${i}`));
  const acked = new Set();
  await takeUntil(first, ids, async (got) => {
    for (const e of got) acked.add(e.deliveryId);
    const ours = got.filter((e) => ids.includes(e.recordId));
    assert.deepEqual(ours.map((e) => e.recordId), ids);  // one event per record, in queue order
    for (const e of ours) {
      assert.equal(e.event, "ONCRMDEALADD");
      assert.equal(e.attempt, 1);
      assert.equal(String(e.data.FIELDS.ID), e.recordId);
    }
    await waitUntil("the acknowledged events to leave the portal's queue",
      async () => !(await rest("event.offline.list")).some((q) => acked.has(String(q.ID))));
  });

  const again = gw.subscribe("ts-client", ["ONCRMDEALADD"], { timeoutMs: 60_000 });
  const newId = await addDeal("ts later");
  const got = await takeUntil(again, [newId]);
  assert.deepEqual(got.filter((e) => acked.has(e.deliveryId)), [], "acknowledged events delivered again");
  assert.equal(got.at(-1).attempt, 1);
});
