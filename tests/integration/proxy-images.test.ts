/**
 * Embeddings images through /v1, end to end: an image server fixture on
 * 127.0.0.1 and a fake resolver stand in for the internet, so nothing leaves
 * this machine.
 *
 * Two address policies, deliberately:
 * - refusals run with the production policy (`publicOnly`); only the
 *   resolver is fake, mapping names to the addresses under test;
 * - successful fetches run with `publicOnlyExcept(127.0.0.1, fixturePort)`,
 *   which allows exactly the fixture's address and port and nothing else,
 *   because a test cannot serve an image from a public address.
 * The api under test is the real /v1 route group (`v1Routes`) built with
 * these policies; the api started by `startCompute` (production policy and
 * real DNS) checks that IP literals are refused in the shipped wiring.
 *
 * https fixtures use certificates from a throwaway authority made by the
 * openssl CLI; only their policies trust it (`ca`), and never the system's
 * roots, so the same verification production does is what passes or fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { Elysia } from "elysia";
import { instanceRuns } from "../../db/schema";
import { v1Routes } from "../../routes/v1";
import { ProxyCache } from "../../src/proxy/cache";
import { publicOnly, publicOnlyExcept } from "../../src/proxy/images/addresses";
import { type ImageFetchPolicy, imageFetchDefaults } from "../../src/proxy/images/fetch-image";
import { proxyDeps } from "../../src/proxy/proxy";
import { referenceLaunch, startCompute, waitFor } from "../support/compute";
import { issueTestCertificates } from "../support/test-certificates";

const compute = await startCompute();
const owner = await compute.fundedUser();
const key = (await owner.api.apiKeys.create({ name: "images" })).secret;
const embedLaunch = { ...referenceLaunch, hfRepo: "BAAI/bge-small-en-v1.5", task: "embeddings" as const };
await owner.api.instances.launch({ ...embedLaunch, servingName: "embed-img" });
const recorded = await owner.api.instances.launch({ ...embedLaunch, servingName: "embed-rec" });
await waitFor(
  () => owner.api.instances.list(),
  (list) => list.length === 2 && list.every((i) => i.state === "running"),
  30_000,
  "instances running",
);

/** Two small images with different bytes (a PNG signature and a few bytes: the reference runtime hashes, never decodes). */
const png = (seed: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 64 }, (_, i) => (i * seed) & 255)]);
const cat = png(7);
const dog = png(13);
const capBytes = 4096;

const hits: { path: string; host: string | null }[] = [];
/** /held.png requests being answered right now, and the most there were at once. */
const held = { now: 0, most: 0 };
/** Every fixture server's answers, http or https. */
function serveImages(request: Request): Response | Promise<Response> {
  const { pathname } = new URL(request.url);
  hits.push({ path: pathname, host: request.headers.get("host") });
  const image = (bytes: BodyInit, headers: Record<string, string> = {}) => new Response(bytes, { headers: { "content-type": "image/png", ...headers } });
  switch (pathname) {
    case "/cat.png":
      return image(cat);
    case "/held.png":
      // Held for a moment so that the proxy's concurrent fetches overlap and can be counted.
      held.most = Math.max(held.most, ++held.now);
      return Bun.sleep(50).then(() => {
        held.now--;
        return image(cat);
      });
    case "/dog.png":
      return image(dog, { "content-type": "image/png; charset=binary" });
    case "/to-cat":
      return Response.redirect("/cat.png", 302);
    case "/to-private":
      return Response.redirect("http://10.0.0.5/secret.png", 302);
    case "/to-evil-name":
      return Response.redirect("http://evil.example/secret.png", 307);
    case "/to-metadata":
      return Response.redirect("http://169.254.169.254/latest/meta-data/", 301);
    case "/loop":
      return Response.redirect("/loop", 302);
    case "/to-file":
      return Response.redirect("file:///etc/passwd", 302);
    case "/huge.png":
      // No Content-Length: the cap must be enforced while streaming.
      return image(
        new ReadableStream({
          async pull(controller) {
            controller.enqueue(new Uint8Array(1024));
            await Bun.sleep(1);
          },
        }),
      );
    case "/huge-declared.png":
      return image(new Uint8Array(capBytes + 1));
    case "/slow.png":
      return image(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(new Uint8Array(16));
            await Bun.sleep(5_000);
            controller.close();
          },
        }),
      );
    case "/page.html":
      return new Response("<html></html>", { headers: { "content-type": "text/html" } });
    default:
      return new Response("missing", { status: 404 });
  }
}
const images = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 30, fetch: serveImages });
const fixturePort = images.port!;
const fixture = `public.example:${fixturePort}`;

const hostsTable: Record<string, string[]> = {
  "public.example": ["127.0.0.1"],
  "evil.example": ["10.0.0.5"],
  "rebind.example": ["93.184.216.34", "127.0.0.1"],
  "mapped.example": ["::ffff:127.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "images.example.test": ["127.0.0.1"],
  "misnamed.example.test": ["127.0.0.1"],
};
const resolverCalls: string[] = [];
const resolve = async (name: string) => {
  resolverCalls.push(name);
  const found = hostsTable[name];
  if (!found) throw new Error(`ENOTFOUND ${name}`);
  return found;
};
const settings = { maxBodyBytes: 8 * 1024 * 1024, upstreamTimeoutMs: 30_000, rateLimitPerMinute: 10_000 };
const base: ImageFetchPolicy = { ...imageFetchDefaults, resolve, isAllowed: publicOnly, maxBytes: capBytes, timeoutMs: 1_000 };

/** The real /v1 routes, with an image policy of the test's choosing. */
function v1With(images: ImageFetchPolicy) {
  const app = new Elysia().use(v1Routes(proxyDeps({ db: compute.db, cache: new ProxyCache(compute.db, { ttlMs: 60_000 }), settings, images })));
  return async (body: unknown) =>
    app.handle(
      new Request("http://local/v1/embeddings", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
}
const production = v1With(base);
const withFixture = v1With({ ...base, isAllowed: publicOnlyExcept("127.0.0.1", fixturePort) });

/** embed-rec's runtime is a recorder: what the proxy forwards, if anything. */
const forwarded: string[] = [];
const recorder = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    forwarded.push(await request.text());
    return Response.json({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0] }],
      model: "embed-rec",
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  },
});
const recordedRun = await waitFor(
  () => owner.api.instances.get({ id: recorded.id }),
  (i) => i.runs.length > 0,
  10_000,
  "embed-rec run",
);
await compute.db
  .update(instanceRuns)
  .set({ runtimeUrl: recorder.url.href.replace(/\/$/, "") })
  .where(eq(instanceRuns.id, recordedRun.runs[0]!.id));

afterAll(() => {
  images.stop(true);
  recorder.stop(true);
});

const imagePart = (url: string) => ({ type: "image_url", image_url: { url } });
const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`;

async function expectRefusal(response: Response, code: string, param: string, message: string | RegExp) {
  const body = await response.json();
  expect(response.status).toBe(400);
  expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  expect(body.error).toMatchObject({ type: "invalid_request_error", code, param });
  expect(body.error.message).toMatch(message);
}

describe("refused images: 400 naming why, nothing forwarded", () => {
  const table: [string, string, string | RegExp][] = [
    [
      "http://evil.example/a.png",
      "image_url_forbidden_address",
      "image_url's host evil.example resolves to 10.0.0.5, a private address: only public addresses are fetched.",
    ],
    ["http://rebind.example/a.png", "image_url_forbidden_address", "resolves to 127.0.0.1, a loopback address"],
    ["http://mapped.example/a.png", "image_url_forbidden_address", "a loopback address (IPv4 127.0.0.1 inside IPv6)"],
    ["http://metadata.example/", "image_url_forbidden_address", "169.254.169.254, a link-local address"],
    ["http://169.254.169.254/latest/meta-data/", "image_url_forbidden_address", "is 169.254.169.254, a link-local address"],
    ["http://[::1]/a.png", "image_url_forbidden_address", "is ::1, a loopback address"],
    ["http://0x7f.1/a.png", "image_url_forbidden_address", "is 127.0.0.1, a loopback address"],
    ["http://2130706433/a.png", "image_url_forbidden_address", "is 127.0.0.1, a loopback address"],
    ["http://public.example@10.0.0.5/a.png", "image_url_invalid", "user name or password"],
    ["file:///etc/passwd", "image_url_invalid", "only http, https and data: URLs"],
    // The fixture itself under the production policy: loopback is refused even for a name that resolves to it.
    [`http://${fixture}/cat.png`, "image_url_forbidden_address", "public.example resolves to 127.0.0.1, a loopback address"],
  ];
  test.each(table)("%s", async (url, code, message) => {
    forwarded.length = 0;
    const response = await production({ model: "embed-rec", input: [{ type: "text", text: "a cat" }, imagePart(url)] });
    await expectRefusal(response, code, "input[1].image_url.url", message);
    expect(forwarded).toEqual([]);
  });

  const fetched: [string, string, string | RegExp][] = [
    ["/to-private", "image_url_forbidden_address", "image_url's redirect to http://10.0.0.5/secret.png is 10.0.0.5, a private address"],
    ["/to-evil-name", "image_url_forbidden_address", "redirect to http://evil.example/secret.png resolves to 10.0.0.5, a private address"],
    ["/to-metadata", "image_url_forbidden_address", "169.254.169.254, a link-local address"],
    ["/to-file", "image_url_invalid", "only http, https and data: URLs"],
    ["/loop", "image_url_too_many_redirects", "redirected more than 3 times"],
    ["/huge.png", "image_too_large", `larger than the ${capBytes} bytes`],
    ["/huge-declared.png", "image_too_large", `larger than the ${capBytes} bytes`],
    ["/slow.png", "image_fetch_timeout", "took longer than 1000 ms"],
    ["/page.html", "image_not_an_image", "content type 'text/html', not an image/* type"],
    ["/missing.png", "image_fetch_failed", "HTTP 404"],
  ];
  test.each(fetched)("the fixture's %s (allowed host, refused answer)", async (path, code, message) => {
    forwarded.length = 0;
    const response = await withFixture({ model: "embed-rec", input: [[imagePart(`http://${fixture}${path}`)]] });
    await expectRefusal(response, code, "input[0][0].image_url.url", message);
    expect(forwarded).toEqual([]);
  });

  test("a data: URL over the cap", async () => {
    const response = await production({ model: "embed-rec", input: [imagePart(dataUrl(new Uint8Array(capBytes + 1)))] });
    await expectRefusal(response, "image_too_large", "input[0].image_url.url", "larger than");
    expect(forwarded).toEqual([]);
  });

  test("the shipped api (production policy, real DNS) refuses IP literals", async () => {
    for (const url of ["http://127.0.0.1:1/a.png", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.5]/a.png"]) {
      const response = await fetch(`${compute.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "embed-img", input: [imagePart(url)] }),
      });
      await expectRefusal(response, "image_url_forbidden_address", "input[0].image_url.url", "only public addresses are fetched");
    }
  });
});

describe("fetched images", () => {
  const embed = async (call: typeof production, input: unknown) => {
    const response = await call({ model: "embed-img", input, encoding_format: "float" });
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
    return (body.data as { embedding: number[] }[]).map((d) => d.embedding);
  };

  test("a fetched image embeds as its bytes sent as a data: URL; another image differently", async () => {
    const [viaUrl] = await embed(withFixture, [[imagePart(`http://${fixture}/cat.png`)]]);
    const [viaData] = await embed(production, [[imagePart(dataUrl(cat))]]);
    const [other] = await embed(withFixture, [[imagePart(`http://${fixture}/dog.png`)]]);
    expect(viaUrl).toEqual(viaData!);
    expect(other).not.toEqual(viaData!);
  });

  test("redirects within the allowed fixture are followed, and re-checked", async () => {
    const [viaRedirect] = await embed(withFixture, [[imagePart(`http://${fixture}/to-cat`)]]);
    const [viaData] = await embed(production, [[imagePart(dataUrl(cat))]]);
    expect(viaRedirect).toEqual(viaData!);
  });

  test("the name is resolved once, the checked IP connected to, the name sent as Host", async () => {
    hits.length = 0;
    resolverCalls.length = 0;
    await embed(withFixture, [[imagePart(`http://${fixture}/cat.png`)]]);
    expect(resolverCalls).toEqual(["public.example"]);
    expect(hits).toEqual([{ path: "/cat.png", host: fixture }]);
  });

  test("forwarded: the image inlined as a data: URL with its content type; bodies without remote images byte for byte", async () => {
    forwarded.length = 0;
    await withFixture({
      model: "embed-rec",
      input: [
        { type: "text", text: "x" },
        { type: "image_url", image_url: `http://${fixture}/dog.png` },
      ],
    });
    expect(JSON.parse(forwarded[0]!).input).toEqual([
      { type: "text", text: "x" },
      { type: "image_url", image_url: dataUrl(dog) },
    ]);
    const untouched = `{"model":"embed-rec",  "input":[{"type":"image_url","image_url":{"url":"${dataUrl(cat)}"}}]}`;
    await production(untouched);
    expect(forwarded[1]).toBe(untouched);
  });
});

describe("https images: the certificate is verified against the URL's host name", () => {
  const name = "images.example.test";
  let trusted: ReturnType<typeof Bun.serve>;
  let untrusted: ReturnType<typeof Bun.serve>;
  let viaTrusted: ReturnType<typeof v1With>;
  let viaTrustedWithoutCa: ReturnType<typeof v1With>;
  let viaUntrusted: ReturnType<typeof v1With>;

  beforeAll(() => {
    const certificates = issueTestCertificates({ signed: [name, "other.example.test"], selfSigned: [name] });
    // The server picks its certificate by SNI: images.example.test gets its own, any other name other.example.test's.
    // So fetching images.example.test at all shows the name went out as SNI, not just as Host.
    trusted = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: [certificates.signed["other.example.test"]!, { ...certificates.signed[name]!, serverName: name }],
      fetch: serveImages,
    });
    untrusted = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: certificates.selfSigned[name]!, fetch: serveImages });
    const onlyTrusted = publicOnlyExcept("127.0.0.1", trusted.port!);
    viaTrusted = v1With({ ...base, isAllowed: onlyTrusted, ca: [certificates.ca] });
    viaTrustedWithoutCa = v1With({ ...base, isAllowed: onlyTrusted });
    viaUntrusted = v1With({ ...base, isAllowed: publicOnlyExcept("127.0.0.1", untrusted.port!), ca: [certificates.ca] });
  });
  afterAll(() => {
    trusted.stop(true);
    untrusted.stop(true);
  });
  const at = (server: ReturnType<typeof Bun.serve>, path: string, host = name) => `https://${host}:${server.port}${path}`;

  test("an image from a host whose certificate checks out is fetched and inlined", async () => {
    forwarded.length = 0;
    hits.length = 0;
    resolverCalls.length = 0;
    const response = await viaTrusted({ model: "embed-rec", input: [{ type: "text", text: "x" }, imagePart(at(trusted, "/cat.png"))] });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(JSON.parse(forwarded[0]!).input).toEqual([{ type: "text", text: "x" }, imagePart(dataUrl(cat))]);
    expect(resolverCalls).toEqual([name]);
    expect(hits).toEqual([{ path: "/cat.png", host: `${name}:${trusted.port}` }]);
  });

  /** A TLS failure is a 400 naming it, and the handshake fails before any request reaches the server. */
  async function expectTlsRefusal(call: ReturnType<typeof v1With>, url: string, message: string) {
    forwarded.length = 0;
    hits.length = 0;
    const response = await call({ model: "embed-rec", input: [[imagePart(url)]] });
    await expectRefusal(response, "image_fetch_tls_failed", "input[0][0].image_url.url", message);
    expect(hits).toEqual([]);
    expect(forwarded).toEqual([]);
  }
  test("a certificate for another host name is refused", () =>
    expectTlsRefusal(
      viaTrusted,
      at(trusted, "/cat.png", "misnamed.example.test"),
      "image_url's host misnamed.example.test could not be verified over TLS: its certificate is not valid for misnamed.example.test (ERR_TLS_CERT_ALTNAME_INVALID).",
    ));
  test("a self-signed certificate nobody trusts is refused", () =>
    expectTlsRefusal(
      viaUntrusted,
      at(untrusted, "/cat.png"),
      "image_url's host images.example.test could not be verified over TLS: its certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT).",
    ));
  test("without trusting the test authority (as in production) its certificates are refused", () =>
    expectTlsRefusal(
      viaTrustedWithoutCa,
      at(trusted, "/cat.png"),
      "could not be verified over TLS: its certificate is not signed by a trusted certificate authority",
    ));

  test.each([
    ["/to-private", "image_url's redirect to http://10.0.0.5/secret.png is 10.0.0.5, a private address"],
    ["/to-evil-name", "image_url's redirect to http://evil.example/secret.png resolves to 10.0.0.5, a private address"],
  ])("an https redirect (%s) to http on a private address is still refused", async (path, message) => {
    forwarded.length = 0;
    hits.length = 0;
    const response = await viaTrusted({ model: "embed-rec", input: [imagePart(at(trusted, path))] });
    await expectRefusal(response, "image_url_forbidden_address", "input[0].image_url.url", message);
    // The https hop itself went through; the redirect was refused.
    expect(hits.map((hit) => hit.path)).toEqual([path]);
    expect(forwarded).toEqual([]);
  });
});

describe("image parts per request", () => {
  const limit = imageFetchDefaults.maxPerRequest;
  const many = (count: number, url: string) => Array.from({ length: count }, () => [imagePart(url)]);

  test(`${limit + 1} image parts are refused before any is fetched`, async () => {
    forwarded.length = 0;
    hits.length = 0;
    resolverCalls.length = 0;
    const response = await withFixture({ model: "embed-rec", input: many(limit + 1, `http://${fixture}/cat.png`) });
    await expectRefusal(response, "image_count_exceeded", "input", `input has ${limit + 1} image parts; at most ${limit} are accepted per request.`);
    expect(resolverCalls).toEqual([]);
    expect(hits).toEqual([]);
    expect(forwarded).toEqual([]);
  });

  test(`${limit} are fetched, a few at a time`, async () => {
    forwarded.length = 0;
    hits.length = 0;
    held.most = 0;
    const response = await withFixture({ model: "embed-rec", input: many(limit, `http://${fixture}/held.png`) });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(JSON.parse(forwarded[0]!).input).toEqual(many(limit, dataUrl(cat)));
    expect(hits).toHaveLength(limit);
    // Neither all at once nor one by one.
    expect(held.most).toBeGreaterThan(1);
    expect(held.most).toBeLessThanOrEqual(4);
  });

  test("the shipped api applies V1_IMAGE_MAX_PER_REQUEST (data: URLs count too)", async () => {
    const response = await fetch(`${compute.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed-img", input: many(17, dataUrl(cat)) }),
    });
    await expectRefusal(response, "image_count_exceeded", "input", "input has 17 image parts; at most 16 are accepted per request.");
  });
});
