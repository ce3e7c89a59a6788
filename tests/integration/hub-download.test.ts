import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HubClient } from "../../src/hub/client";
import type { DownloadProgress } from "../../src/hub/download";
import { HubBadResponseError, HubError } from "../../src/hub/errors";
import { type FixtureHub, ggufBytes, startFixtureHub } from "../support/fixture-hub";

const REPO = "qdivzero/tiny-random-qwen2-gguf";
const FILE = "tiny-random-qwen2.gguf";
const TOKEN = "hf_fixture_token_with_access";

let root: string;
let filesDir: string;
let contents: Uint8Array<ArrayBuffer>;
let sha256: string;
let fast: FixtureHub;
let slow: FixtureHub;
let n = 0;
const destination = () => join(root, "out", `${++n}`, FILE);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "qdz-hub-download-"));
  filesDir = join(root, "files");
  mkdirSync(join(filesDir, REPO), { recursive: true });
  contents = ggufBytes({ "general.architecture": "llama", "general.name": "tiny" }, 200_000);
  for (let i = 64; i < contents.length; i++) contents[i] = (i * 31) % 251; // not all zeros, so corruption would show
  writeFileSync(join(filesDir, REPO, FILE), contents);
  mkdirSync(join(filesDir, "meta-llama/Llama-3.1-8B-Instruct/original"), { recursive: true });
  writeFileSync(join(filesDir, "meta-llama/Llama-3.1-8B-Instruct/original/params.json"), "{}");
  sha256 = createHash("sha256").update(contents).digest("hex");
  fast = await startFixtureHub({ filesDir, token: TOKEN });
  slow = await startFixtureHub({ filesDir, bytesPerSecond: 400_000 }); // ~0.5 s for the file
});

afterAll(async () => {
  await fast.stop();
  await slow.stop();
  rmSync(root, { recursive: true, force: true });
});

test("streams to disk with monotonic progress ending at exactly 1, and checks the hub's sha256", async () => {
  const progress: DownloadProgress[] = [];
  const to = destination();
  const result = await new HubClient({ endpoint: slow.url }).download(REPO, FILE, to, (p) => progress.push(p), { progressIntervalMs: 20 });

  expect(result).toEqual({ path: to, bytes: contents.length, sha256, resumedFromBytes: 0, verified: true });
  expect(new Uint8Array(readFileSync(to))).toEqual(contents);
  expect(existsSync(`${to}.part`)).toBe(false);

  expect(progress.length).toBeGreaterThan(5);
  for (let i = 1; i < progress.length; i++) {
    expect(progress[i]!.receivedBytes).toBeGreaterThanOrEqual(progress[i - 1]!.receivedBytes);
    expect(progress[i]!.fraction!).toBeGreaterThanOrEqual(progress[i - 1]!.fraction!);
  }
  expect(progress.every((p) => p.totalBytes === contents.length)).toBe(true);
  expect(progress.filter((p) => p.fraction === 1)).toHaveLength(1);
  expect(progress.at(-1)).toEqual({ receivedBytes: contents.length, totalBytes: contents.length, fraction: 1 });
  expect(progress.some((p) => p.fraction! > 0.2 && p.fraction! < 0.8)).toBe(true);
});

test("an interrupted download resumes from its .part file", async () => {
  const to = destination();
  mkdirSync(join(to, ".."), { recursive: true });
  writeFileSync(`${to}.part`, contents.subarray(0, 123_456));
  const progress: DownloadProgress[] = [];
  const result = await new HubClient({ endpoint: fast.url }).download(REPO, FILE, to, (p) => progress.push(p));
  expect(result).toMatchObject({ bytes: contents.length, resumedFromBytes: 123_456, verified: true, sha256 });
  expect(new Uint8Array(readFileSync(to))).toEqual(contents);
  expect(progress[0]!.receivedBytes).toBe(123_456);
});

test("a .part the hub cannot continue (416) starts over", async () => {
  const to = destination();
  mkdirSync(join(to, ".."), { recursive: true });
  writeFileSync(`${to}.part`, new Uint8Array(contents.length + 10));
  const result = await new HubClient({ endpoint: fast.url }).download(REPO, FILE, to);
  expect(result).toMatchObject({ bytes: contents.length, resumedFromBytes: 0, verified: true });
});

test("cancelling keeps the .part for later; resuming finishes it", async () => {
  const to = destination();
  const controller = new AbortController();
  const client = new HubClient({ endpoint: slow.url });
  const download = client.download(
    REPO,
    FILE,
    to,
    (p) => {
      if (p.receivedBytes > 50_000) controller.abort(new Error("stopped by the user"));
    },
    { signal: controller.signal, progressIntervalMs: 0 },
  );
  await expect(download).rejects.toThrow("stopped by the user");
  expect(existsSync(to)).toBe(false);
  const kept = readFileSync(`${to}.part`).length;
  expect(kept).toBeGreaterThan(50_000);
  const result = await new HubClient({ endpoint: fast.url }).download(REPO, FILE, to);
  expect(result).toMatchObject({ resumedFromBytes: kept, bytes: contents.length, verified: true });
});

describe("refusals", () => {
  test("bytes that do not match the hub's sha256 are discarded", async () => {
    const tampering = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (!response.headers.has("x-linked-etag")) return response;
      const headers = new Headers(response.headers);
      headers.set("x-linked-etag", `"${"0".repeat(64)}"`);
      return new Response(response.body, { status: response.status, headers });
    }) as typeof fetch;
    const to = destination();
    const error = await new HubClient({ endpoint: fast.url, fetch: tampering }).download(REPO, FILE, to).catch((e) => e);
    expect(error).toBeInstanceOf(HubBadResponseError);
    expect(error.message).toContain("is corrupt");
    expect(existsSync(to)).toBe(false);
    expect(existsSync(`${to}.part`)).toBe(false);
  });

  test("a body shorter than announced is not renamed into place", async () => {
    const short = (async () =>
      new Response(new Blob([contents.subarray(0, 1000)]).stream(), { headers: { "content-length": String(contents.length) } })) as unknown as typeof fetch;
    const to = destination();
    const error = await new HubClient({ endpoint: fast.url, fetch: short }).download(REPO, FILE, to).catch((e) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(existsSync(to)).toBe(false);
  });

  test("gated files need the token; missing files are not_found", async () => {
    const gated = "meta-llama/Llama-3.1-8B-Instruct";
    const anonymous = await new HubClient({ endpoint: fast.url }).download(gated, "original/params.json", destination()).catch((e) => e);
    expect(anonymous).toMatchObject({ code: "gated", status: 401 });
    const to = destination();
    expect(await new HubClient({ endpoint: fast.url, token: TOKEN }).download(gated, "original/params.json", to)).toMatchObject({ bytes: 2 });
    const missing = await new HubClient({ endpoint: fast.url }).download(REPO, "nope.gguf", destination()).catch((e) => e);
    expect(missing).toMatchObject({ code: "not_found" });
  });
});
