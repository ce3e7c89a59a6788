import { expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import sshpk from "sshpk";
import { startCompute, waitFor } from "../support/compute";

const compute = await startCompute();

test("a template pod starts with its ports listed and answering, and the account's SSH keys installed at first boot", async () => {
  const { api } = await compute.fundedUser();
  const { publicKey } = generateKeyPairSync("ed25519");
  const line = sshpk
    .parseKey(publicKey.export({ type: "spki", format: "pem" }).toString(), "pem")
    .toString("ssh")
    .split(" ")
    .slice(0, 2)
    .join(" ");
  await api.sshKeys.add({ publicKey: `${line} ada@laptop`, name: "laptop" });

  const launched = await api.instances.launch({
    templateId: "a1111",
    gpuPreferences: ["L4"],
    gpuCount: 1,
    tier: "community",
    allowedRegions: ["local"],
    placementMode: "smart",
  });
  expect(launched.servingName).toBeNull();
  const running = await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "running",
    20_000,
    "running",
  );
  expect(running.runtimeConfig).toMatchObject({
    templateId: "a1111",
    runtimeId: null,
    ports: [
      { port: 22, name: "ssh" },
      { port: 7860, name: "webui" },
    ],
  });
  expect(running.rateCentsPerHour).toBe(38); // the community "pod" price of an L4, from the snapshot

  const run = running.runs[0]!;
  expect(run.runtimeUrl).toBeNull();
  expect(run.ports!.map((p) => p.name)).toEqual(["ssh", "webui"]);
  const webui = run.ports!.find((p) => p.name === "webui")!;
  expect(await (await fetch(webui.url)).text()).toContain("port: 7860 (webui)");

  const authorizedKeys = join(compute.podsDir, run.podId!, "home", ".ssh", "authorized_keys");
  expect(readFileSync(authorizedKeys, "utf8")).toBe(`${line}\n`);
  expect(statSync(authorizedKeys).mode & 0o777).toBe(0o600);

  const logs = await api.instances.logs({ id: launched.id, stream: "runtime" });
  expect(logs.text).toContain("pod process up: ssh 22");
  expect((await api.instances.logs({ id: launched.id, stream: "agent" })).text).toContain("installed 1 SSH key(s)");

  await api.instances.stop({ id: launched.id });
  await waitFor(
    () => api.instances.get({ id: launched.id }),
    (i) => i.state === "stopped",
    20_000,
    "stopped",
  );
  expect(await fetch(webui.url).catch(() => null)).toBeNull();
}, 60_000);
