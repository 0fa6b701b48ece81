// Times one GetAll of every lead (`select ID,TITLE`) through the TypeScript
// client (clients/typescript, compiled to dist/), items as JavaScript values,
// or through the bare generated stub (whose decoder already unwraps
// google.protobuf.Value into JavaScript values); after a bare read, also the
// decoding of those same messages from their bytes, conversion included
// (best of 3): what the client adds to the read, measured apart from the
// machine's noise. Run by tests/bench/clients_bench.sh, which resets the
// servers between reads.
//
// usage: node typescript_getall.mjs TARGET bare|client
// Prints "ITEMS SECONDS [CONVERSION_SECONDS]"; the connection is made before
// the clock starts.
import { credentials } from "@grpc/grpc-js";

import { Gateway } from "../../../clients/typescript/dist/index.js";
import { GatewayServiceClient, GetAllRequest, GetAllResponse } from "../../../clients/typescript/dist/gen/bitrix24/gateway/v1/gateway.js";

const [target, mode] = process.argv.slice(2);
if (!target || (mode !== "bare" && mode !== "client")) {
  console.error("usage: node typescript_getall.mjs TARGET bare|client");
  process.exit(2);
}

function connected(client) {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + 10000, (error) => (error ? reject(error) : resolve())));
}

async function bare() {
  const stub = new GatewayServiceClient(target, credentials.createInsecure());
  await connected(stub);
  const start = process.hrtime.bigint();
  let items = 0;
  const request = GetAllRequest.fromPartial({ method: "crm.lead.list", paramsJson: '{"select":["ID","TITLE"]}' });
  const messages = [];
  for await (const message of stub.getAll(request)) {
    items += message.items.length;
    messages.push(message);
  }
  const seconds = seconds_since(start);
  stub.close();
  return [items, seconds, conversion(messages)];
}

function seconds_since(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

// Decoding the messages' bytes, their items unwrapped into JavaScript values: best of 3.
function conversion(messages) {
  const bytes = messages.map((m) => GetAllResponse.encode(m).finish());
  let best;
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    for (const b of bytes) GetAllResponse.decode(b);
    const took = seconds_since(start);
    best = best === undefined ? took : Math.min(best, took);
  }
  return best;
}

async function client() {
  const gw = new Gateway(target);
  await connected(gw.client);
  const start = process.hrtime.bigint();
  let items = 0;
  for await (const _ of gw.getAll("crm.lead.list", { select: ["ID", "TITLE"] })) items++;
  const seconds = seconds_since(start);
  gw.close();
  return [items, seconds, undefined];
}

const [items, seconds, converted] = await (mode === "bare" ? bare() : client());
console.log(`${items} ${seconds.toFixed(3)}` + (converted === undefined ? "" : ` ${converted.toFixed(3)}`));
