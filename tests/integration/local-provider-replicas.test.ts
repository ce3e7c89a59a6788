import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/config";
import { listPodIds, readPodRecord } from "../../src/providers/local/pod-files";
import { freshDatabase } from "../support/db";
import { stopPods } from "../support/platform";

/**
 * Worker replicas on one machine share the local provider's pods directory: its GPUs must be handed out
 * once however many of them provision at the same moment.
 */
const database = await freshDatabase();
const runDir = join(projectRoot, ".data", "test", `run-${process.pid}`);
mkdirSync(runDir, { recursive: true });
const podsDir = mkdtempSync(join(runDir, "replica-pods-"));
afterAll(() => {
  stopPods(podsDir);
  rmSync(podsDir, { recursive: true, force: true });
});

function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
    }
    const [line, ...rest] = buffered.split("\n");
    buffered = rest.join("\n");
    return line ?? "";
  };
}

test("four worker processes racing for the machine's one L4 make one pod; the others are told to try another offer", async () => {
  const racers = ["pod_a", "pod_b", "pod_c", "pod_d"].map((podId) =>
    Bun.spawn([process.execPath, "tests/support/provision-process.ts", database.url, podsDir, podId], {
      cwd: projectRoot,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const lines = racers.map((racer) => lineReader(racer.stdout));
  for (const next of lines) expect(await next()).toBe("ready");
  // All at once, as worker replicas picking up provisioning jobs in the same instant.
  for (const racer of racers) racer.stdin.write("go\n");
  for (const racer of racers) racer.stdin.end();
  const outcomes = await Promise.all(lines.map((next) => next()));
  expect(outcomes.filter((line) => line.startsWith("provisioned"))).toHaveLength(1);
  expect(outcomes.filter((line) => line.startsWith("refused no 1×L4 free on the local provider any more"))).toHaveLength(3);
  const pods = listPodIds(podsDir).map((id) => readPodRecord(podsDir, id));
  expect(pods.map((pod) => pod?.podId)).toEqual([outcomes.find((line) => line.startsWith("provisioned"))!.split(" ")[1]]);
});
