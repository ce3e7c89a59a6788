/**
 * What the platform pays its providers is for the operator: no answer a
 * customer reads (tRPC, `qdz … --json`) carries it, while the database keeps it.
 */
import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { instances, placementDecisions } from "../../db/schema";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { newApiKey } from "../support/factories";
import { cliRunner } from "../support/platform";

const compute = await startCompute();
const PROVIDER_COST = /providerCost|provider_cost/i;

describe("provider cost stays with the operator", () => {
  test("instances.launch, list, get and catalog and `qdz instances show --json` leave it out; the snapshot and placement keep it", async () => {
    const { user, api } = await compute.fundedUser();
    const launched = await api.instances.launch({ ...referenceLaunch, servingName: "no-cost" });
    // Placed: the detail then holds the placement decision, with every offer considered.
    const detail = await waitFor(
      () => api.instances.get({ id: launched.id }),
      (instance) => instance.placement !== null,
      20_000,
      "a placement decision",
    );
    expect(structuredClone(detail.pricingSnapshot.rows)).toEqual([
      { gpuType: "L4", rateCentsPerGpuHour: expect.any(Number), catalogUpdatedAt: expect.any(String) },
    ]);
    const considered = detail.placement!.considered as { ranked: { offer: { id: string } }[] };
    expect(considered.ranked.map((entry) => entry.offer.id)).toContain("local/L4/secure");
    for (const answer of [launched, detail, await api.instances.list(), await api.instances.catalog()]) {
      expect(JSON.stringify(answer)).not.toMatch(PROVIDER_COST);
    }

    const { secret } = await newApiKey(compute.db, user, { scope: "read" });
    const cli = cliRunner(compute.url);
    const shown = await cli(["instances", "show", launched.id, "--json"], { env: { QDZ_API_KEY: secret } });
    const catalog = await cli(["instances", "catalog", "--json"], { env: { QDZ_API_KEY: secret } });
    cli.cleanup();
    expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(shown.stdout).pricingSnapshot.rows[0].rateCentsPerGpuHour).toBe(detail.pricingSnapshot.rows[0]!.rateCentsPerGpuHour);
    expect(shown.stdout).not.toMatch(PROVIDER_COST);
    expect(catalog.code).toBe(0);
    expect(catalog.stdout).not.toMatch(PROVIDER_COST);

    // The operator's copy: the stored snapshot and placement decision are unchanged.
    const [row] = await compute.db.select().from(instances).where(eq(instances.id, launched.id));
    expect(row!.pricingSnapshot.rows[0]!.providerCostCentsPerGpuHour).toBe(48);
    const [decision] = await compute.db.select().from(placementDecisions).where(eq(placementDecisions.instanceId, launched.id));
    expect(JSON.stringify(decision!.considered)).toContain('"providerCostCentsPerGpuHour":48');

    await api.instances.delete({ id: launched.id });
  });
});
