import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { resourceSamples } from "../../db/schema";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { expectTrpcError } from "../support/errors";

const compute = await startCompute();

test("settings: name, description, serving name (unique per account), GPU preferences and constraints", async () => {
  const { api } = await compute.fundedUser();
  const a = await api.instances.launch({ ...referenceLaunch, servingName: "settings-a" });
  await api.instances.launch({ ...referenceLaunch, servingName: "settings-b" });

  const renamed = await api.instances.updateSettings({ id: a.id, name: "Chat A", description: "the support bot", servingName: "support" });
  expect(renamed).toMatchObject({ displayName: "Chat A", servingName: "support" });
  const taken = await expectTrpcError(api.instances.updateSettings({ id: a.id, servingName: "settings-b" }), "CONFLICT");
  expect((taken.cause as { field?: string }).field).toBe("servingName");

  // A GPU type newly allowed gets its price locked now; the L4 price locked at launch stays.
  await api.instances.updateSettings({
    id: a.id,
    gpuPreferences: ["L4", "L40S"],
    allowedRegions: ["local"],
    maxPriceCentsPerHour: 200,
    placementMode: "pinned",
  });
  const detail = await api.instances.get({ id: a.id });
  expect(detail.pricingSnapshot.rows.map((row) => [row.gpuType, row.rateCentsPerGpuHour])).toEqual([
    ["L4", 79],
    ["L40S", 156],
  ]);
  expect(detail).toMatchObject({
    gpuPreferences: ["L4", "L40S"],
    allowedRegions: ["local"],
    maxPriceCentsPerHour: 200,
    placementMode: "pinned",
    description: "the support bot",
  });

  await expectTrpcError(api.instances.updateSettings({ id: a.id, servingName: "Not A Name!" }), "BAD_REQUEST");
  await expectTrpcError(api.instances.updateSettings({ id: "inst_00000000000000000000", name: "x" }), "NOT_FOUND");
}, 60_000);

test("a plain pod has no serving name to set", async () => {
  const { api } = await compute.fundedUser();
  const pod = await api.instances.launch({
    templateId: "ubuntu-24.04",
    gpuPreferences: ["L4"],
    gpuCount: 1,
    tier: "secure",
    allowedRegions: [],
    placementMode: "smart",
  });
  const error = await expectTrpcError(api.instances.updateSettings({ id: pod.id, servingName: "pod" }), "BAD_REQUEST");
  expect(error.message).toContain("plain pod");
}, 60_000);

test("the agent's resource samples are stored: CPU, memory and disk read from the OS, GPU fields null without a GPU", async () => {
  const { api } = await compute.fundedUser();
  const launched = await api.instances.launch({ ...referenceLaunch, servingName: "sampled" });
  await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running",
    20_000,
    "running",
  );
  const samples = await waitFor(
    () => compute.db.select().from(resourceSamples).where(eq(resourceSamples.instanceId, launched.id)),
    (rows) => rows.length >= 2,
    20_000,
    "two samples",
  );
  const latest = samples.at(-1)!;
  expect(latest.memoryUsedBytes).toBeGreaterThan(1_000_000);
  expect(latest.memoryTotalBytes).toBeGreaterThan(latest.memoryUsedBytes!);
  expect(latest.diskTotalBytes).toBeGreaterThan(0);
  expect(latest.cpuPercent).toBeGreaterThanOrEqual(0);
  if (!Bun.which("nvidia-smi")) {
    expect([latest.gpuUtilPercent, latest.vramUsedBytes, latest.vramTotalBytes, latest.gpuTemperatureC]).toEqual([null, null, null, null]);
  }
  await api.instances.delete({ id: launched.id });
}, 60_000);
