import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "../../src/errors";
import { DEFAULT_HUB_ENDPOINT, HubClient } from "../../src/hub/client";
import { HubBadResponseError, HubError, HubGatedError, HubNotFoundError, HubUnreachableError } from "../../src/hub/errors";
import { ggufAsConfig } from "../../src/hub/gguf-header";
import { type FixtureHub, ggufBytes, startFixtureHub } from "../support/fixture-hub";

const TOKEN = "hf_fixture_token_with_access";
let hub: FixtureHub;
let filesDir: string;

beforeAll(async () => {
  filesDir = mkdtempSync(join(tmpdir(), "qdz-hub-client-"));
  // Tokenizer strings before the hyperparameters push them past the first 1 MiB read.
  const late = ggufBytes({
    "general.architecture": "qwen2",
    "tokenizer.ggml.tokens": Array.from({ length: 60_000 }, (_, i) => `a-rather-long-token-number-${i}`),
    "qwen2.context_length": 32768,
    "qwen2.embedding_length": 896,
    "qwen2.block_count": 24,
    "qwen2.attention.head_count": 14,
    "qwen2.attention.head_count_kv": 2,
  });
  mkdirSync(join(filesDir, "Qwen/Qwen2.5-0.5B-Instruct-GGUF"), { recursive: true });
  writeFileSync(join(filesDir, "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"), late);
  writeFileSync(join(filesDir, "Qwen/Qwen2.5-0.5B-Instruct-GGUF/README.md"), "not a gguf");
  hub = await startFixtureHub({ token: TOKEN, filesDir });
});

afterAll(async () => {
  await hub.stop();
  rmSync(filesDir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<HubError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return error as HubError;
  }
  throw new Error("expected a HubError");
}

/** A fetch that answers every request with `respond`, recording what was asked. */
function fakeFetch(respond: (url: URL, headers: Headers) => Response) {
  const calls: { url: string; authorization: string | null }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    calls.push({ url: url.href, authorization: headers.get("authorization") });
    return respond(url, headers);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

describe("reading", () => {
  test("the endpoint defaults to huggingface.co and loses a trailing slash", () => {
    expect(new HubClient().endpoint).toBe(DEFAULT_HUB_ENDPOINT);
    expect(new HubClient({ endpoint: "http://mirror.local/" }).endpoint).toBe("http://mirror.local");
    expect(new HubClient({ endpoint: "" }).endpoint).toBe(DEFAULT_HUB_ENDPOINT);
  });

  test("model info and a JSON file", async () => {
    const client = new HubClient({ endpoint: hub.url });
    const info = await client.modelInfo("Qwen/Qwen3-8B");
    expect(info).toMatchObject({ id: "Qwen/Qwen3-8B", gated: false, pipeline_tag: "text-generation", safetensors: { total: 8_190_735_360 } });
    expect(info.siblings.find((s) => s.rfilename === "model-00001-of-00005.safetensors")?.size).toBe(3_996_250_744);
    expect(await client.fetchJson("Qwen/Qwen3-8B", "config.json")).toMatchObject({ architectures: ["Qwen3ForCausalLM"], num_key_value_heads: 8 });
  });

  test("a GGUF header by growing range reads, never the whole file", async () => {
    const client = new HubClient({ endpoint: hub.url });
    const before = hub.requests.length;
    const header = await client.ggufHeader("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf");
    expect(ggufAsConfig(header.metadata)).toMatchObject({ model_type: "qwen2", num_hidden_layers: 24, num_key_value_heads: 2, head_dim: 64 });
    // 1 MiB was not enough (the tokenizer came first), 4 MiB was: two redirects, two CDN reads.
    expect(hub.requests.slice(before).filter((r) => r.startsWith("GET /_cdn/"))).toHaveLength(2);
    const notGguf = await failure(client.ggufHeader("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "README.md"));
    expect(notGguf).toBeInstanceOf(HubBadResponseError);
  });
});

describe("errors", () => {
  test("an unknown repo or file is not_found", async () => {
    const client = new HubClient({ endpoint: hub.url });
    const repo = await failure(client.modelInfo("nobody/nothing"));
    expect(repo).toBeInstanceOf(HubNotFoundError);
    expect(repo).toMatchObject({ code: "not_found", status: 404, repo: "nobody/nothing" });
    const file = await failure(client.fetchJson("Qwen/Qwen3-8B", "nope.json"));
    expect(file).toMatchObject({ code: "not_found", message: "'nope.json' is not in Qwen/Qwen3-8B (main branch)." });
  });

  test("a gated repo: 401 without a token, 403 with a token lacking access", async () => {
    const none = await failure(new HubClient({ endpoint: hub.url }).modelInfo("meta-llama/Llama-3.3-70B-Instruct"));
    expect(none).toBeInstanceOf(HubGatedError);
    expect(none).toMatchObject({
      code: "gated",
      status: 401,
      message: "meta-llama/Llama-3.3-70B-Instruct is gated: it needs a Hugging Face token with access.",
    });
    const wrong = await failure(new HubClient({ endpoint: hub.url, token: "hf_nope" }).fetchJson("meta-llama/Llama-3.3-70B-Instruct", "config.json"));
    expect(wrong).toMatchObject({ code: "gated", status: 403 });
    expect(wrong.message).toContain("no access");
    const right = new HubClient({ endpoint: hub.url, token: TOKEN });
    expect((await right.modelInfo("meta-llama/Llama-3.3-70B-Instruct")).gated).toBe("manual");
  });

  test("the hub's X-Error-Code wins over the status: an unknown repo answers 401 to anonymous requests", async () => {
    const { fetch } = fakeFetch(() => Response.json({ error: "Repository not found" }, { status: 401, headers: { "x-error-code": "RepoNotFound" } }));
    const error = await failure(new HubClient({ fetch }).modelInfo("someone/private-or-missing"));
    expect(error).toMatchObject({ code: "not_found", status: 401 });
  });

  test("down, slow, overloaded or rate limiting: unreachable", async () => {
    const gone = await startFixtureHub();
    await gone.stop();
    expect(await failure(new HubClient({ endpoint: gone.url }).modelInfo("Qwen/Qwen3-8B"))).toBeInstanceOf(HubUnreachableError);

    const slow = await startFixtureHub({ latencyMs: 1_000 });
    try {
      const timedOut = await failure(new HubClient({ endpoint: slow.url, timeoutMs: 100 }).modelInfo("Qwen/Qwen3-8B"));
      expect(timedOut).toMatchObject({ code: "unreachable" });
      expect(timedOut.message).toContain("no answer within 0.1 s");
    } finally {
      await slow.stop();
    }

    for (const status of [500, 503, 429]) {
      const { fetch } = fakeFetch(() => new Response("busy", { status }));
      expect(await failure(new HubClient({ fetch }).modelInfo("Qwen/Qwen3-8B"))).toMatchObject({ code: "unreachable", status });
    }
  });

  test("answers that are not JSON, or not model info, are bad_response", async () => {
    const html = fakeFetch(() => new Response("<html>captive portal</html>", { status: 200 }));
    expect(await failure(new HubClient({ fetch: html.fetch }).modelInfo("Qwen/Qwen3-8B"))).toBeInstanceOf(HubBadResponseError);
    const shape = fakeFetch(() => Response.json({ id: 42 }));
    expect(await failure(new HubClient({ fetch: shape.fetch }).modelInfo("Qwen/Qwen3-8B"))).toMatchObject({ code: "bad_response" });
  });

  test("invalid repo ids and file paths are refused before any request", async () => {
    const { fetch, calls } = fakeFetch(() => Response.json({}));
    const client = new HubClient({ fetch });
    await expect(client.modelInfo("gpt2")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(client.fetchJson("Qwen/Qwen3-8B", "../../etc/passwd")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(client.download("Qwen/Qwen3-8B", "/abs", join(filesDir, "x"))).rejects.toBeInstanceOf(InvalidInputError);
    expect(calls).toEqual([]);
  });
});

describe("the token", () => {
  test("goes to the hub, never to the CDN a download is redirected to", async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url.hostname === "hub.local"
        ? new Response(null, { status: 302, headers: { location: "https://cdn.example/signed/abc?sig=1", "x-linked-size": "2" } })
        : new Response("{}", { headers: { "content-length": "2" } }),
    );
    const client = new HubClient({ endpoint: "https://hub.local", token: "hf_secret", fetch });
    expect(await client.fetchJson("Qwen/Qwen3-8B", "config.json")).toEqual({});
    expect(calls).toEqual([
      { url: "https://hub.local/Qwen/Qwen3-8B/resolve/main/config.json", authorization: "Bearer hf_secret" },
      { url: "https://cdn.example/signed/abc?sig=1", authorization: null },
    ]);
  });

  test("relative redirects (a renamed repo) stay on the hub and keep it", async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url.pathname.includes("old-name")
        ? new Response(null, { status: 307, headers: { location: "/api/models/org/new-name?blobs=true" } })
        : Response.json({ id: "org/new-name" }),
    );
    const info = await new HubClient({ endpoint: "https://hub.local", token: "hf_secret", fetch }).modelInfo("org/old-name");
    expect(info.id).toBe("org/new-name");
    expect(calls.map((c) => c.authorization)).toEqual(["Bearer hf_secret", "Bearer hf_secret"]);
  });

  test("endless redirects end", async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 302, headers: { location: "/again" } }));
    expect(await failure(new HubClient({ fetch }).modelInfo("org/loop"))).toMatchObject({ code: "bad_response" });
  });
});
