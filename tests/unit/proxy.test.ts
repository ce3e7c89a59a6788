import { describe, expect, test } from "bun:test";
import { parseNotification } from "../../src/platform/cache-bus";
import { parseProxyBody, readBody } from "../../src/proxy/body";
import { bearerKey } from "../../src/proxy/credentials";
import { errorAnswer, ProxyError } from "../../src/proxy/errors";
import { LookupCache } from "../../src/proxy/lookup-cache";
import { formatDuration, RateLimiter, rateLimitHeaders, refusal, SharedRateLimiter } from "../../src/proxy/rate-limit";
import { upstreamFor } from "../../src/proxy/routing";
import { expectValid } from "../support/openapi";

const bytes = (text: string) => new TextEncoder().encode(text);
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as ProxyError;
  }
  throw new Error("did not throw");
};

describe("parseProxyBody", () => {
  test("reads a non-empty string model and judges nothing else", () => {
    const body = bytes('{"model":"chat-a","messages":"anything"}');
    expect(parseProxyBody(body)).toEqual({ bytes: body, json: { model: "chat-a", messages: "anything" }, model: "chat-a" });
  });
  test.each([["{"], [""], ["[]"], ["null"], ["1"], ['"x"']])("%p is a 400 without a param", (body) => {
    const error = errorOf(() => parseProxyBody(bytes(body)));
    expect(error).toMatchObject({ status: 400, param: null });
  });
  test.each([["{}"], ['{"model":""}'], ['{"model":1}'], ['{"model":null}'], ['{"model":["a"]}']])("%p is a 400 on model", (body) => {
    expect(errorOf(() => parseProxyBody(bytes(body)))).toMatchObject({ status: 400, param: "model" });
  });
  test("invalid UTF-8 is a 400", () => {
    expect(errorOf(() => parseProxyBody(new Uint8Array([0x7b, 0xff, 0x7d])))).toMatchObject({ status: 400 });
  });
});

describe("readBody", () => {
  test("refuses by Content-Length before reading", async () => {
    const request = new Request("http://x/", { method: "POST", body: "x".repeat(10), headers: { "content-length": "10" } });
    await expect(readBody(request, 5)).rejects.toMatchObject({ status: 413 });
  });
  test("refuses a body longer than its Content-Length says when that is over the limit", async () => {
    const request = new Request("http://x/", { method: "POST", body: "x".repeat(10), headers: { "content-length": "3" } });
    await expect(readBody(request, 5)).rejects.toMatchObject({ status: 413 });
  });
  test("counts a chunked body while reading", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(bytes("abcd"));
        controller.close();
      },
    });
    await expect(readBody(new Request("http://x/", { method: "POST", body }), 10)).rejects.toMatchObject({ status: 413 });
    const small = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("ab"));
        controller.enqueue(bytes("cd"));
        controller.close();
      },
    });
    expect(new TextDecoder().decode(await readBody(new Request("http://x/", { method: "POST", body: small }), 10))).toBe("abcd");
  });
  test("keeps the bytes exactly", async () => {
    const raw = '{ "model" : "a",\n  "x": "\\u00e9" }';
    expect(new TextDecoder().decode(await readBody(new Request("http://x/", { method: "POST", body: raw }), 1000))).toBe(raw);
  });
});

describe("bearerKey", () => {
  const key = `qdz_${"a".repeat(43)}`;
  test("accepts Bearer, any case", () => {
    expect(bearerKey(`Bearer ${key}`)).toBe(key);
    expect(bearerKey(`bearer ${key}`)).toBe(key);
  });
  test.each([[null], [""], ["Basic x"], ["Bearer"], [`Bearer ${key} more`], ["Bearer qdz_short"], [`Bearer sk-${"a".repeat(43)}`]])(
    "%p is a 401 invalid_api_key",
    (header) => {
      const error = errorOf(() => bearerKey(header));
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
    },
  );
});

describe("RateLimiter", () => {
  test("a bucket of `perMinute`, refilled continuously, per key", () => {
    let now = 0;
    const limiter = new RateLimiter(60, { now: () => now });
    for (let i = 0; i < 60; i++) expect(limiter.take("k").allowed).toBe(true);
    const refused = limiter.take("k");
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 60 });
    expect(refused.retryAfterMs).toBe(1000);
    expect(limiter.take("other").allowed).toBe(true);
    now += 1000;
    expect(limiter.take("k")).toMatchObject({ allowed: true, remaining: 0 });
    now += 60_000;
    expect(limiter.take("k").remaining).toBe(59);
  });
  test("headers and the 429", () => {
    const limiter = new RateLimiter(2, { now: () => 0 });
    limiter.take("k");
    limiter.take("k");
    const state = limiter.take("k");
    expect(rateLimitHeaders(state)).toEqual({ "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m0s" });
    const error = refusal(state);
    expect(error).toMatchObject({ status: 429, code: "rate_limit_exceeded", headers: { "retry-after": "30" } });
  });
  test("forgets full buckets rather than grow without bound", () => {
    let now = 0;
    const limiter = new RateLimiter(10, { now: () => now, maxKeys: 3 });
    for (const key of ["a", "b", "c"]) limiter.take(key);
    now += 60_000;
    limiter.take("d");
    expect(limiter.take("a").remaining).toBe(9);
  });
  test("durations as OpenAI writes them", () => {
    expect([formatDuration(6), formatDuration(999), formatDuration(1000), formatDuration(61_000), formatDuration(360_000)]).toEqual([
      "6ms",
      "999ms",
      "1s",
      "1m1s",
      "6m0s",
    ]);
  });
});

describe("SharedRateLimiter", () => {
  /** The database's bucket, in memory: what `qdz_rate_limit_take` does, on a clock the test moves. */
  function sharedBucket(perMinute: number, clock: { now: number }) {
    let tokens = perMinute;
    let at = 0;
    const asked: number[] = [];
    const lease = async (_key: string, _perMinute: number, wanted: number) => {
      asked.push(wanted);
      tokens = Math.min(perMinute, tokens + ((clock.now - at) * perMinute) / 60_000);
      at = clock.now;
      const granted = Math.min(wanted, Math.floor(tokens));
      tokens -= granted;
      return { granted, left: tokens };
    };
    return { lease, asked };
  }

  test("leases a hundredth of the limit at a time and spends it in memory", async () => {
    const clock = { now: 0 };
    const bucket = sharedBucket(1000, clock);
    const limiter = new SharedRateLimiter(1000, bucket.lease, { now: () => clock.now });
    for (let i = 0; i < 25; i++) expect((await limiter.take("k")).allowed).toBe(true);
    expect(bucket.asked).toEqual([10, 10, 10]);
  });

  test("two replicas share one budget: together they get the limit, not twice it", async () => {
    const clock = { now: 0 };
    const bucket = sharedBucket(100, clock);
    const [a, b] = [new SharedRateLimiter(100, bucket.lease, { now: () => clock.now }), new SharedRateLimiter(100, bucket.lease, { now: () => clock.now })];
    let allowed = 0;
    for (let i = 0; i < 150; i++) if ((await (i % 2 ? a : b).take("k")).allowed) allowed++;
    expect(allowed).toBe(100);
    const refused = await a.take("k");
    expect(refused).toMatchObject({ allowed: false, limit: 100 });
    expect(refused.retryAfterMs).toBe(600);
    clock.now += 600;
    expect((await a.take("k")).allowed).toBe(true);
  });

  test("limits on its own replica when the database cannot be asked", async () => {
    const warned: unknown[] = [];
    const limiter = new SharedRateLimiter(
      2,
      async () => {
        throw new Error("connection refused");
      },
      { now: () => 0, onLeaseError: (error) => warned.push(error) },
    );
    expect([(await limiter.take("k")).allowed, (await limiter.take("k")).allowed, (await limiter.take("k")).allowed]).toEqual([true, true, false]);
    expect(warned).toHaveLength(3);
  });
});

describe("LookupCache", () => {
  const make = (now = () => 0) => new LookupCache<string>({ ttlMs: 1000, maxEntries: 3, now });
  test("caches, shares concurrent loads, and drops by tag", async () => {
    const cache = make();
    let loads = 0;
    const load = async () => `v${++loads}`;
    const [a, b] = await Promise.all([cache.get("k", load, () => "t"), cache.get("k", load, () => "t")]);
    expect([a, b, loads]).toEqual(["v1", "v1", 1]);
    expect(await cache.get("k", load, () => "t")).toBe("v1");
    cache.invalidateTag("t");
    expect(await cache.get("k", load, () => "t")).toBe("v2");
  });
  test("expires after the TTL", async () => {
    let now = 0;
    const cache = make(() => now);
    let loads = 0;
    await cache.get(
      "k",
      async () => `v${++loads}`,
      () => null,
    );
    now = 1001;
    expect(
      await cache.get(
        "k",
        async () => `v${++loads}`,
        () => null,
      ),
    ).toBe("v2");
  });
  test("a load that races an invalidation is not stored", async () => {
    const cache = make();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const pending = cache.get(
      "k",
      async () => (await slow, "stale"),
      () => "t",
    );
    cache.invalidateTag("t");
    release();
    expect(await pending).toBe("stale");
    expect(
      await cache.get(
        "k",
        async () => "fresh",
        () => "t",
      ),
    ).toBe("fresh");
  });
  test("keeps at most maxEntries", async () => {
    const cache = make();
    for (const key of ["a", "b", "c", "d"])
      await cache.get(
        key,
        async () => key,
        () => null,
      );
    expect(cache.size).toBe(3);
    expect(
      await cache.get(
        "a",
        async () => "reloaded",
        () => null,
      ),
    ).toBe("reloaded");
  });
});

describe("routing", () => {
  test("a running instance with a runtime URL is the upstream", () => {
    expect(upstreamFor({ kind: "instance", instanceId: "inst_1", state: "running", runtimeUrl: "http://127.0.0.1:9/", runtimeId: "reference" }, "m")).toEqual({
      instanceId: "inst_1",
      baseUrl: "http://127.0.0.1:9",
      runtimeId: "reference",
    });
  });
  test("missing is model_not_found", () => {
    expect(errorOf(() => upstreamFor({ kind: "missing" }, "m"))).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
  });
  test.each(["pending", "stopping", "stopped", "failed", "non_bootstrap"])("%s is a 409 naming the state", (state) => {
    const error = errorOf(() => upstreamFor({ kind: "instance", instanceId: "inst_1", state, runtimeUrl: null, runtimeId: null }, "chat-a"));
    expect(error).toMatchObject({ status: 409, code: "instance_not_running" });
    expect(error.message).toStartWith(`instance 'chat-a' is ${state}; `);
    expect(error.headers["retry-after"]).toBe(state === "pending" ? "5" : (undefined as never));
  });
  test("stopped names the start command", () => {
    const error = errorOf(() => upstreamFor({ kind: "instance", instanceId: "inst_1", state: "stopped", runtimeUrl: null, runtimeId: null }, "chat-a"));
    expect(error.message).toBe("instance 'chat-a' is stopped; start it with `qdz instances start inst_1` or from the Instances page.");
  });
  test("running without a runtime URL is a 503 to retry", () => {
    expect(errorOf(() => upstreamFor({ kind: "instance", instanceId: "i", state: "running", runtimeUrl: null, runtimeId: null }, "m"))).toMatchObject({
      status: 503,
    });
  });
});

describe("notifications and errors", () => {
  test("parses the triggers' payloads; anything else is null (clear all)", () => {
    expect(parseNotification('{"kind":"api_key","key_id":"key_1"}')).toEqual({ kind: "api_key", key_id: "key_1" });
    expect(parseNotification('{"kind":"account","account_id":"acct_1"}')).toEqual({ kind: "account", account_id: "acct_1" });
    expect(parseNotification('{"kind":"firewall","account_id":"acct_1"}')).toEqual({ kind: "firewall", account_id: "acct_1" });
    expect(parseNotification('{"kind":"run_ended","run_id":"run_1"}')).toEqual({ kind: "run_ended", run_id: "run_1" });
    expect(parseNotification('{"kind":"run_ended","account_id":"acct_1"}')).toBeNull();
    expect(parseNotification("nonsense")).toBeNull();
    expect(parseNotification('{"kind":"account"}')).toBeNull();
  });
  test("error answers are OpenAI ErrorResponses with a request id; unknown errors reveal nothing", async () => {
    const known = errorAnswer(new ProxyError(409, "m", "invalid_request_error", "c", "model", { "retry-after": "5" }), "req_1", {
      "x-ratelimit-limit-requests": "1",
    });
    expect(known.status).toBe(409);
    expect(known.headers.get("x-request-id")).toBe("req_1");
    expect(known.headers.get("retry-after")).toBe("5");
    expect(known.headers.get("x-ratelimit-limit-requests")).toBe("1");
    expectValid("ErrorResponse", await known.json());
    const originalError = console.error;
    console.error = () => {};
    const unknown = errorAnswer(new Error("secret detail"), "req_2");
    console.error = originalError;
    expect(unknown.status).toBe(500);
    const body = await unknown.json();
    expectValid("ErrorResponse", body);
    expect(JSON.stringify(body)).not.toContain("secret");
  });
});
