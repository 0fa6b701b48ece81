// End-to-end tests of the TypeScript client (compiled to clients/typescript/dist)
// against a real b24gate and b24-emulator, started by
// tests/clients/typescript_client_test.sh (B24GATE_TARGET, B24_EXPECTED_LEADS).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";

import { BitrixError, Gateway } from "../../../clients/typescript/dist/index.js";

const TARGET = process.env.B24GATE_TARGET;
const EXPECTED_LEADS = Number(process.env.B24_EXPECTED_LEADS);
let gw;

const TOKEN = process.env.B24GATE_TOKEN;

before(() => {
  gw = new Gateway(TARGET, { token: TOKEN });  // params travel as params_json
});
after(() => gw.close());

async function firstIds(method, n) {
  const page = await gw.call(method, { select: ["ID"], order: { ID: "ASC" } });
  return page.slice(0, n).map((r) => r.ID);
}

describe("typescript client", () => {
  test("without the token calls are refused", async () => {
    const anonymous = new Gateway(TARGET);
    try {
      await assert.rejects(anonymous.call("crm.lead.list", { select: ["ID"] }),
        (e) => e instanceof BitrixError && e.grpcCode === status.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
  });

  test("call returns the result with select applied", async () => {
    const page = await gw.call("crm.lead.list", { filter: { ">ID": 0 }, select: ["ID", "TITLE"] });
    assert.equal(page.length, 50);
    assert.deepEqual(Object.keys(page[0]).sort(), ["ID", "TITLE"]);
  });

  test("a multi-field order keeps its priority", async () => {
    const select = ["ID", "STATUS_ID"];
    const byStatus = await gw.call("crm.lead.list", { order: { STATUS_ID: "ASC", ID: "DESC" }, select });
    const byId = await gw.call("crm.lead.list", { order: { ID: "DESC", STATUS_ID: "ASC" }, select });
    const sorted = (page, cmp) => JSON.stringify(page) === JSON.stringify([...page].sort(cmp));
    assert.ok(sorted(byStatus, (a, b) => (a.STATUS_ID < b.STATUS_ID ? -1 : a.STATUS_ID > b.STATUS_ID ? 1 : Number(b.ID) - Number(a.ID))));
    assert.ok(sorted(byId, (a, b) => Number(b.ID) - Number(a.ID)));
    assert.notDeepEqual(byStatus, byId);
  });

  test("unknown method rejects with a BitrixError carrying the Bitrix24 code", async () => {
    await assert.rejects(gw.call("no.such.method"), (e) => {
      assert.ok(e instanceof BitrixError);
      assert.equal(e.code, "ERROR_METHOD_NOT_FOUND");
      assert.equal(e.grpcCode, status.NOT_FOUND);
      assert.equal(e.domain, "bitrix24.com");
      assert.ok(e.description);
      return true;
    });
  });

  test("a REST 3.0 validation error names each field", async () => {
    // Portal "rest3" sends calls to REST 3.0 (servers.sh): the emulator
    // refuses an add without its required people, naming both fields.
    const rest3 = new Gateway(TARGET, { token: TOKEN, portal: "rest3" });
    try {
      await assert.rejects(rest3.call("tasks.task.add", { fields: { title: "nobody's task" } }), (e) => {
        assert.ok(e instanceof BitrixError);
        assert.equal(e.grpcCode, status.INVALID_ARGUMENT);
        assert.equal(e.code, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION");
        assert.deepEqual(e.fieldViolations.map((v) => v.field), ["creatorId", "responsibleId"]);
        assert.match(e.fieldViolations[0].description, /creatorId/);
        return true;
      });
    } finally {
      rest3.close();
    }
  });

  test("getAll reads every lead once", async () => {
    const reader = gw.getAll("crm.lead.list", { select: ["ID", "TITLE"] });
    const ids = new Set();
    let count = 0;
    for await (const lead of reader) {
      ids.add(lead.ID);
      count++;
    }
    assert.equal(count, EXPECTED_LEADS);
    assert.equal(ids.size, EXPECTED_LEADS);
    assert.equal(reader.summary.count, EXPECTED_LEADS);
    assert.equal(reader.summary.totalMatched, true);
    assert.equal(reader.total, EXPECTED_LEADS);
  });

  test("a read resumed from its cursor loses and repeats nothing", async () => {
    const reader = gw.getAll("crm.lead.list", { select: ["ID"] });
    const first = [];
    let cursor = reader.resumeCursor;
    for await (const lead of reader) {
      first.push(lead.ID);
      if (reader.resumeCursor !== cursor) {  // this lead ended a message
        cursor = reader.resumeCursor;
        if (first.length >= 100) break;
      }
    }
    assert.ok(first.length < EXPECTED_LEADS, "the stream ended before a cursor past 100 leads");
    const rest = [];
    for await (const lead of gw.getAll("crm.lead.list", { select: ["ID"] }, { resumeCursor: cursor })) rest.push(lead.ID);
    console.log(`resumed after ${first.length} leads, ${rest.length} more`);
    assert.equal(rest.filter((id) => first.includes(id)).length, 0);
    assert.equal(first.length + rest.length, EXPECTED_LEADS);
    assert.equal(new Set([...first, ...rest]).size, EXPECTED_LEADS);
  });

  test("getAll of an unknown method throws while iterating", async () => {
    await assert.rejects(async () => {
      for await (const _ of gw.getAll("no.such.list")) { /* nothing arrives */ }
    }, (e) => e instanceof BitrixError && e.code === "ERROR_METHOD_NOT_FOUND");
  });

  test("leaving the loop cancels the stream and the gateway keeps serving", async () => {
    const reader = gw.getAll("crm.lead.list", { select: ["ID"] });
    let n = 0;
    for await (const _ of reader) {
      if (++n === 10) break;
    }
    assert.equal(n, 10);
    assert.ok(reader.summary === undefined, "stopped before the end");
    const again = [];
    for await (const item of reader) again.push(item);
    assert.equal(again.length, 0);
    assert.equal((await gw.call("crm.lead.list", { select: ["ID"] })).length, 50);

    // cancel() from outside the loop: the loop ends quietly, short of the end.
    const cancelled = gw.getAll("crm.lead.list", { select: ["ID"] });
    let read = 0;
    for await (const _ of cancelled) {
      if (++read === 5) cancelled.cancel();
    }
    assert.ok(read >= 5 && read < EXPECTED_LEADS, `read ${read}`);
    assert.equal(cancelled.summary, undefined);
  });

  test("a deadline is DEADLINE_EXCEEDED", async () => {
    await assert.rejects(async () => {
      for await (const _ of gw.getAll("crm.lead.list", undefined, { timeoutMs: 1 })) { /* too slow */ }
    }, (e) => e instanceof BitrixError && e.grpcCode === status.DEADLINE_EXCEEDED);
    await assert.rejects(gw.call("crm.lead.list", undefined, { timeoutMs: 1 }),
      (e) => e instanceof BitrixError && e.grpcCode === status.DEADLINE_EXCEEDED);
  });

  test("getById maps ids to results in order, missing ids to errors", async () => {
    const [first, second] = await firstIds("crm.lead.list", 2);
    const results = await gw.getById("crm.lead.get", [first, second, 987654321]);
    assert.deepEqual([...results.keys()], [first, second, 987654321]);
    assert.equal(results.get(first).ID, first);
    assert.equal(results.get(second).ID, second);
    assert.ok(results.get(987654321) instanceof BitrixError);
    assert.equal(results.get(987654321).grpcCode, status.NOT_FOUND);
  });

  test("callMany writes in order and reports item errors", async () => {
    const ids = await firstIds("crm.deal.list", 3);
    const updates = ids.map((id, i) => ({ id, fields: { TITLE: `ts callMany ${i}` } }));
    updates.push({ id: 987654321, fields: { TITLE: "nobody" } });
    const results = await gw.callMany("crm.deal.update", updates);
    console.log("callMany used", gw.callManyPath);
    assert.equal(gw.callManyPath, "CallMany");
    assert.deepEqual(results.slice(0, 3), [true, true, true]);
    assert.ok(results[3] instanceof BitrixError);
    const deals = await gw.getById("crm.deal.get", ids);
    assert.deepEqual(ids.map((id) => deals.get(id).TITLE), ["ts callMany 0", "ts callMany 1", "ts callMany 2"]);
  });

  test("batch resolves references and halts", async () => {
    const results = await gw.batch({
      last: ["crm.lead.list", { select: ["ID"], order: { ID: "DESC" } }],
      lead: ["crm.lead.get", { id: "$result[last][0][ID]" }],
      bad: "no.such.method",
    });
    assert.deepEqual(Object.keys(results), ["last", "lead", "bad"]);
    assert.equal(results.lead.ID, results.last[0].ID);
    assert.ok(results.bad instanceof BitrixError);
    assert.equal(results.bad.code, "ERROR_METHOD_NOT_FOUND");
    const halted = await gw.batch({ bad: "no.such.method", next: ["crm.lead.list", {}] }, { halt: true });
    assert.equal(halted.next.code, "NOT_EXECUTED");
  });
});

// The service config retries UNAVAILABLE for reads (GetAll) and never for
// Call, which may write. The gateway makes 2 attempts per read (max_attempts
// in servers.sh), so emulator requests = 2 x client attempts; every request
// fails with a 500 here.
describe("service config", () => {
  const emulator = async (path, body) => {
    const response = await fetch(process.env.B24_EMULATOR_ADDR + path,
      body === undefined ? {} : { method: "POST", body });
    return body === undefined ? response.json() : response.text();
  };
  // Requests for the method under test only: the gateway's offline reader
  // polls the queue meanwhile once a subscribe test has made a group.
  const requestsFor = async (method) =>
    (await emulator("/_emulator/stats")).requests_by_method?.[method] ?? 0;
  before(() => emulator("/_emulator/faults", "500=1"));
  after(() => emulator("/_emulator/faults", "none"));

  test("GetAll is retried on UNAVAILABLE", async () => {
    await emulator("/_emulator/reset", "");
    const started = Date.now();
    await assert.rejects(async () => { for await (const _ of gw.getAll("crm.lead.list")) { /* fails */ } },
      (e) => e instanceof BitrixError && e.grpcCode === status.UNAVAILABLE);
    const requests = await requestsFor("crm.lead.list");
    console.log(`GetAll: ${requests} emulator requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(requests, 4 * 2);  // maxAttempts 4 in service-config.json
  });

  test("a write with an unknown outcome is never repeated", async () => {
    await emulator("/_emulator/reset", "");
    await assert.rejects(gw.call("crm.deal.update", { id: 1, fields: { TITLE: "once" } }),
      (e) => e instanceof BitrixError && e.outcomeUnknown && e.grpcCode === status.UNAVAILABLE);
    assert.equal(await requestsFor("crm.deal.update"), 1);
  });
});
