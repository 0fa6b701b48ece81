// Compiled (not run) by typescript_client_test.sh against the package's
// emitted declarations: the README's usage type-checks for a consumer.
import { BitrixError, Gateway, type ListReader } from "../../../clients/typescript/dist/index.js";

interface Deal {
  ID: string;
  TITLE: string;
}

export async function readDeals(target: string): Promise<string[]> {
  const gw = new Gateway(target, { portal: "", paramsAsJson: true });
  const titles: string[] = [];
  const reader: ListReader<Deal> = gw.getAll<Deal>("crm.deal.list", { select: ["ID", "TITLE"] },
    { onProgress: (soFar: number, total: number | undefined) => { titles.push(`${soFar}/${total ?? "?"}`); } });
  for await (const deal of reader) titles.push(deal.TITLE);
  const count: number | undefined = reader.summary?.count;
  const first = await gw.call<Deal>("crm.deal.get", { id: 1 }, { timeoutMs: 5000 });
  const many = await gw.callMany<boolean>("crm.deal.update", [{ id: 1, fields: { TITLE: "x" } }]);
  const failed: BitrixError[] = many.filter((r): r is BitrixError => r instanceof BitrixError);
  const byId: Map<string | number, Deal | BitrixError> = await gw.getById<Deal>("crm.deal.get", [1, "2"]);
  const batch = await gw.batch({ a: ["crm.deal.get", { id: 1 }], b: "crm.deal.get?id=2" }, { halt: true });
  try {
    await gw.call("no.such.method");
  } catch (e) {
    if (e instanceof BitrixError) titles.push(e.code, e.description, String(e.grpcCode), String(e.outcomeUnknown));
  }
  gw.close();
  return [...titles, String(count), first.TITLE, String(failed.length), String(byId.size), Object.keys(batch).join()];
}
