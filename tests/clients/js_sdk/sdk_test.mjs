// The official Bitrix24 JS SDK (@bitrix24/b24jssdk, pinned in package-lock.json),
// used unchanged, against a real b24-emulator over HTTPS (the SDK speaks only
// HTTPS): classic REST and REST 3.0 (its batch with $ref / $refArray too). Started by tests/clients/js_sdk_test.sh
// (B24_WEBHOOK_URL, B24_EVENTLOG_ENTRIES; NODE_EXTRA_CA_CERTS trusts the
// emulator's test certificate). Expected counts are read from the emulator with
// plain HTTPS requests, not through the SDK under test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { AjaxError, B24Hook } from "@bitrix24/b24jssdk";

const WEBHOOK = process.env.B24_WEBHOOK_URL;
const EVENTLOG_ENTRIES = Number(process.env.B24_EVENTLOG_ENTRIES);
const V3_VALIDATION = "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";

// The SDK's own pacing models a standard portal (2 requests/s after a burst of
// 50); the emulator runs --no-limits, and these tests are about the protocol,
// not about pacing, so the client-side limiter is opened through its public
// option. Nothing else is configured.
const b24 = B24Hook.fromWebhookUrl(WEBHOOK, {
  restrictionParams: { rateLimit: { burstLimit: 100000, drainRate: 100000, adaptiveEnabled: false } },
});

// A classic call's `total`, straight from the emulator.
async function classicTotal(method) {
  const response = await fetch(`${WEBHOOK}${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ select: ["ID"] }),
  });
  const body = await response.json();
  assert.equal(typeof body.total, "number", `${method}: no total in ${JSON.stringify(body).slice(0, 200)}`);
  return body.total;
}

// Every id once, and how many there were.
function assertEachOnce(ids, expected, what) {
  assert.equal(ids.length, expected, `${what}: items`);
  assert.equal(new Set(ids).size, expected, `${what}: distinct ids`);
}

async function addTask(title) {
  const response = await b24.actions.v3.call.make({
    method: "tasks.task.add",
    params: { fields: { title, creatorId: 1, responsibleId: 1 } },
  });
  assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
  return response.getData().result.item;
}

describe("classic REST through the JS SDK", () => {
  test("callMethod returns a page with total and next", async () => {
    const leads = await classicTotal("crm.lead.list");
    const response = await b24.callMethod("crm.lead.list", { select: ["ID", "TITLE"] });
    assert.ok(response.isSuccess);
    assert.equal(response.getData().result.length, 50);
    assert.deepEqual(Object.keys(response.getData().result[0]).sort(), ["ID", "TITLE"]);
    assert.equal(response.getTotal(), leads);
    assert.equal(response.isMore(), true);
  });

  test("callBatch in array form answers in order", async () => {
    const response = await b24.callBatch(
      [["crm.lead.get", { id: 1 }], ["crm.lead.list", { select: ["ID"], filter: { ">ID": 10 } }]], true);
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    const [lead, list] = response.getData();
    assert.equal(lead.ID, "1");
    assert.equal(list.length, 50);
    assert.equal(list[0].ID, "11");
  });

  test("callBatch in object form answers by key, and an error is kept with its key", async () => {
    const response = await b24.callBatch({
      lead: { method: "crm.lead.get", params: { id: 2 } },
      deals: ["crm.deal.list", { select: ["ID"] }],
      unknown: ["no.such.method", {}],
    }, false);
    assert.equal(response.isSuccess, false);
    const errors = response.getErrorsByKey();
    assert.deepEqual(Object.keys(errors), ["unknown"]);
    assert.equal(errors.unknown.code, "ERROR_METHOD_NOT_FOUND");
    const data = response.getData();
    assert.equal(data.lead.ID, "2");
    assert.ok(Array.isArray(data.deals) && data.deals.length > 0);
  });

  test("callListMethod reads every lead once", async () => {
    const leads = await classicTotal("crm.lead.list");
    const response = await b24.callListMethod("crm.lead.list", { select: ["ID"] });
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    assertEachOnce(response.getData().map((lead) => lead.ID), leads, "callListMethod");
  });

  test("fetchListMethod streams every lead once", async () => {
    const leads = await classicTotal("crm.lead.list");
    const ids = [];
    for await (const chunk of b24.fetchListMethod("crm.lead.list", { select: ["ID"] }, "ID")) {
      assert.ok(chunk.length <= 50);
      ids.push(...chunk.map((lead) => lead.ID));
    }
    assertEachOnce(ids, leads, "fetchListMethod");
  });
});

describe("REST 3.0 through the JS SDK (actions.v3)", () => {
  test("call: tasks.task.add, get and list agree", async () => {
    const item = await addTask("Written by the JS SDK");
    assert.equal(typeof item.id, "number");
    const got = await b24.actions.v3.call.make({
      method: "tasks.task.get", params: { id: item.id, select: ["id", "title"] } });
    assert.deepEqual(got.getData().result.item, { id: item.id, title: "Written by the JS SDK" });
    const listed = await b24.actions.v3.call.make({
      method: "tasks.task.list", params: { filter: [["id", item.id]], select: ["id", "title"] } });
    assert.deepEqual(listed.getData().result.items, [{ id: item.id, title: "Written by the JS SDK" }]);
    assert.equal(listed.getTotal(), 0, "REST 3.0 answers carry no total");
  });

  test("call: a validation error names the field (AjaxError with validation)", async () => {
    const response = await b24.actions.v3.call.make({
      method: "tasks.task.add", params: { fields: { title: "no creator" } } });
    assert.equal(response.isSuccess, false);
    const error = response.getErrors().next().value;
    assert.ok(error instanceof AjaxError);
    assert.equal(error.code, V3_VALIDATION);
    assert.equal(error.status, 400);
    assert.deepEqual(error.validation.map((v) => v.field).sort(), ["creatorId", "responsibleId"]);
  });

  test("callList reads every task once", async () => {
    const tasks = await classicTotal("tasks.task.list");
    const response = await b24.actions.v3.callList.make({
      method: "tasks.task.list", params: { select: ["id"] }, customKeyForResult: "items" });
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    assertEachOnce(response.getData().map((task) => task.id), tasks, "callList");
  });

  test("fetchList streams every task once, in id order", async () => {
    const tasks = await classicTotal("tasks.task.list");
    const ids = [];
    for await (const chunk of b24.actions.v3.fetchList.make({
      method: "tasks.task.list", params: { select: ["id"] }, customKeyForResult: "items", limit: 1000 })) {
      ids.push(...chunk.map((task) => task.id));
    }
    assertEachOnce(ids, tasks, "fetchList");
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  });

  test("batch: named commands run in order and a $ref finds an earlier answer", async () => {
    const response = await b24.actions.v3.batch.make({
      calls: {
        made: { method: "tasks.task.add",
                params: { fields: { title: "Made in a REST 3.0 batch", creatorId: 1, responsibleId: 1 } } },
        got: { method: "tasks.task.get", params: { id: { $ref: "made.id" }, select: ["id", "title"] } },
        first: { method: "tasks.task.list", params: { select: ["id"], pagination: { limit: 3 } } },
        same: { method: "tasks.task.list",
                params: { select: ["id"], filter: [["id", "in", { $refArray: "first.id" }]] } },
      },
      options: { isHaltOnError: true, returnAjaxResult: true },
    });
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    const results = response.getData();
    const made = results.made.getData().result.item;
    assert.deepEqual(results.got.getData().result.item, { id: made.id, title: "Made in a REST 3.0 batch" });
    const first = results.first.getData().result.items;
    assert.equal(first.length, 3);
    assert.deepEqual(results.same.getData().result.items, first);
  });

  test("batch: a $ref that finds nothing fails the whole batch with the portal's code", async () => {
    const response = await b24.actions.v3.batch.make({
      calls: [{ method: "tasks.task.get", params: { id: { $ref: "nowhere.id" } } }],
      options: { isHaltOnError: true },
    });
    assert.equal(response.isSuccess, false);
    assert.match(response.getErrorMessages().join("; "), /not found in context/);
  });

  test("callTail reads the whole event log once, in id order", async () => {
    const response = await b24.actions.v3.callTail.make({
      method: "main.eventlog.tail", params: { select: ["id", "auditTypeId"] }, limit: 400 });
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    const ids = response.getData().map((entry) => entry.id);
    assertEachOnce(ids, EVENTLOG_ENTRIES, "callTail");
    assert.deepEqual(ids, Array.from({ length: EVENTLOG_ENTRIES }, (_, i) => i + 1));
  });

  test("batch: array form answers in order", async () => {
    const first = await addTask("batch one");
    const second = await addTask("batch two");
    const response = await b24.actions.v3.batch.make({
      calls: [
        ["tasks.task.get", { id: first.id, select: ["id", "title"] }],
        { method: "tasks.task.get", params: { id: second.id, select: ["id", "title"] } },
      ],
    });
    assert.ok(response.isSuccess, response.getErrorMessages().join("; "));
    assert.deepEqual(response.getData().map((r) => r.item),
      [{ id: first.id, title: "batch one" }, { id: second.id, title: "batch two" }]);
  });
});
