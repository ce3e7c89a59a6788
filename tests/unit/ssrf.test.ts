/**
 * SSRF rules for embeddings images, without any network: which addresses
 * are public, how image URLs parse (odd IP literal forms, user info), where
 * image parts sit in `input`, the fetcher's refusals with a fake resolver
 * and the production address policy, how TLS failures are named, and the
 * cap on image parts per request.
 */
import { describe, expect, test } from "bun:test";
import { parseProxyBody } from "../../src/proxy/body";
import { ProxyError } from "../../src/proxy/errors";
import { publicOnly, publicOnlyExcept } from "../../src/proxy/images/addresses";
import { connectionTo, fetchImage, type ImageFetchPolicy, publicImagePolicy } from "../../src/proxy/images/fetch-image";
import { imageSource } from "../../src/proxy/images/image-url";
import { inlineImages } from "../../src/proxy/images/inline";
import { imageParts } from "../../src/proxy/images/parts";
import { tlsRefusal, verifiedTls } from "../../src/proxy/images/tls";

describe("address classification", () => {
  const refused: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["169.254.0.1", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.10", "documentation"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.9", "documentation"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.5", "private"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:7f00:1", "loopback"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::a00:5", "private"],
    ["64:ff9b:1::1", "private"],
    ["2002:7f00:1::", "loopback"],
    ["::7f00:1", "reserved"],
    ["not-an-ip", "not an IP address"],
  ];
  test.each(refused)("%s is refused (%s)", (address, reason) => {
    const verdict = publicOnly(address, 80);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toContain(reason);
  });
  test("embedded IPv4 is named in the reason", () => {
    const verdict = publicOnly("::ffff:127.0.0.1", 80);
    expect(!verdict.allowed && verdict.reason).toContain("IPv4 127.0.0.1 inside IPv6");
  });

  test.each(["93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::808:808"])(
    "%s is public",
    (address) => expect(publicOnly(address, 443)).toEqual({ allowed: true }),
  );

  test("the test policy allows exactly one address and port", () => {
    const policy = publicOnlyExcept("127.0.0.1", 4321);
    expect(policy("127.0.0.1", 4321).allowed).toBe(true);
    expect(policy("127.0.0.1", 4322).allowed).toBe(false);
    expect(policy("127.0.0.2", 4321).allowed).toBe(false);
    expect(policy("10.0.0.5", 4321).allowed).toBe(false);
    expect(policy("8.8.8.8", 80).allowed).toBe(true);
  });
});

describe("image URL parsing", () => {
  const remote = (raw: string) => {
    const source = imageSource(raw, 1000, "input[0].image_url.url");
    if (source.kind !== "remote") throw new Error("expected remote");
    return source;
  };
  test.each([
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://2130706433/", "127.0.0.1"],
    ["http://017700000001/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://[::1]/", "::1"],
    ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254"],
  ])("%s is the IP literal %s", (raw, address) => {
    const source = remote(raw);
    expect(source.literal).toBe(true);
    expect(source.hostname).toBe(address);
    expect(publicOnly(source.hostname, source.port).allowed).toBe(false);
  });

  test("names are not literals; ports default by scheme", () => {
    expect(remote("http://public.example/a.png")).toMatchObject({ literal: false, hostname: "public.example", port: 80 });
    expect(remote("https://public.example/a.png").port).toBe(443);
    expect(remote("https://public.example:8443/a.png").port).toBe(8443);
  });

  const refusal = (raw: string, maxBytes = 1000) => {
    try {
      imageSource(raw, maxBytes, "input[2].image_url.url");
    } catch (error) {
      expect(error).toBeInstanceOf(ProxyError);
      const e = error as ProxyError;
      expect(e.status).toBe(400);
      expect(e.param).toBe("input[2].image_url.url");
      return e;
    }
    throw new Error(`${raw} was accepted`);
  };
  test("user info is refused, even when it looks like the host", () => {
    expect(refusal("http://public.example@10.0.0.5/x.png").message).toContain("user name or password");
    expect(refusal("http://user:pass@public.example/x.png").code).toBe("image_url_invalid");
  });
  test("other schemes and garbage are refused", () => {
    expect(refusal("file:///etc/passwd").message).toContain("uses file:");
    expect(refusal("gopher://public.example/").code).toBe("image_url_invalid");
    expect(refusal("not a url").code).toBe("image_url_invalid");
    expect(refusal("data:image/png;base64").code).toBe("image_url_invalid");
    expect(refusal("data:image/png;base64,***").code).toBe("image_url_invalid");
  });
  test("data: URLs are measured by their decoded size", () => {
    const bytes = Buffer.alloc(900).toString("base64");
    expect(imageSource(`data:image/png;base64,${bytes}`, 900, "p")).toEqual({ kind: "data", decodedBytes: 900 });
    expect(refusal(`data:image/png;base64,${bytes}`, 899).code).toBe("image_too_large");
    expect(imageSource("data:image/svg+xml,%3Csvg%2F%3E", 100, "p")).toEqual({ kind: "data", decodedBytes: 6 });
  });
});

describe("image parts in input", () => {
  const image = (url: string) => ({ type: "image_url", image_url: { url } });
  test("strings and token lists have none", () => {
    expect(imageParts("hello")).toEqual([]);
    expect(imageParts(["a", "b"])).toEqual([]);
    expect(imageParts([1, 2, 3])).toEqual([]);
    expect(imageParts([[1, 2], [3]])).toEqual([]);
    expect(imageParts(undefined)).toEqual([]);
  });
  test("a list of parts", () => {
    const found = imageParts([{ type: "text", text: "a cat" }, image("http://a/1.png"), image("data:image/png;base64,AA==")]);
    expect(found.map((p) => [p.param, p.url])).toEqual([
      ["input[1].image_url.url", "http://a/1.png"],
      ["input[2].image_url.url", "data:image/png;base64,AA=="],
    ]);
  });
  test("a list of lists, and a single part", () => {
    expect(imageParts([[{ type: "text", text: "x" }], [{ type: "text", text: "y" }, image("http://b/")]]).map((p) => p.param)).toEqual([
      "input[1][1].image_url.url",
    ]);
    expect(imageParts(image("http://c/")).map((p) => p.param)).toEqual(["input.image_url.url"]);
  });
  test("image_url as a bare string (the runtimes accept it) is found too", () => {
    const input = [{ type: "image_url", image_url: "http://x/" }];
    const [part] = imageParts(input);
    expect(part).toMatchObject({ url: "http://x/", param: "input[0].image_url" });
    part!.replace("data:image/png;base64,AA==");
    expect(input[0]!.image_url).toBe("data:image/png;base64,AA==");
  });
  test("malformed parts are left to the runtime", () => {
    expect(imageParts([{ type: "image_url" }, { type: "image_url", image_url: { url: 5 } }, { type: "text", image_url: { url: "http://x/" } }, null])).toEqual(
      [],
    );
  });
  test("replacing a part's url edits the body", () => {
    const input = [image("http://a/")];
    imageParts(input)[0]!.replace("data:image/png;base64,AA==");
    expect(input[0]!.image_url.url).toBe("data:image/png;base64,AA==");
  });
});

describe("connecting to the checked address", () => {
  test("http: the IP in the URL, the name in Host", () => {
    expect(connectionTo(new URL("http://public.example:8080/a.png?x=1"), "93.184.216.34", false)).toEqual({
      href: "http://93.184.216.34:8080/a.png?x=1",
      host: "public.example:8080",
      serverName: undefined,
    });
  });
  test("https: the name as TLS server name (SNI and certificate check); IPv6 bracketed", () => {
    expect(connectionTo(new URL("https://public.example/a.png"), "2606:4700::1", false)).toEqual({
      href: "https://[2606:4700::1]/a.png",
      host: "public.example",
      serverName: "public.example",
    });
  });
  test("https to an IP literal: no server name", () => {
    expect(connectionTo(new URL("https://93.184.216.34/a.png"), "93.184.216.34", true).serverName).toBeUndefined();
  });
});

describe("the fetcher's refusals (fake resolver, production policy)", () => {
  const hosts: Record<string, string[]> = {
    "evil.example": ["10.0.0.5"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "nowhere.example": [],
  };
  let resolved: string[] = [];
  const policy: ImageFetchPolicy = {
    ...publicImagePolicy({ timeoutMs: 2000 }),
    resolve: async (name) => {
      resolved.push(name);
      const found = hosts[name];
      if (!found) throw new Error(`ENOTFOUND ${name}`);
      return found;
    },
  };
  const refusal = async (url: string, p = policy) => {
    resolved = [];
    const error = await fetchImage(url, "input[1].image_url.url", p).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(ProxyError);
    expect(error.status).toBe(400);
    expect(error.param).toBe("input[1].image_url.url");
    return error as ProxyError;
  };

  test.each([
    ["http://evil.example/a.png", "image_url's host evil.example resolves to 10.0.0.5, a private address: only public addresses are fetched."],
    ["http://rebind.example/a.png", "resolves to 127.0.0.1, a loopback address"],
    ["http://mapped.example/a.png", "resolves to ::ffff:127.0.0.1, a loopback address (IPv4 127.0.0.1 inside IPv6)"],
    ["http://metadata.example/latest", "resolves to 169.254.169.254, a link-local address"],
    ["http://169.254.169.254/latest/meta-data/", "image_url's host 169.254.169.254 is 169.254.169.254, a link-local address"],
    ["http://[::1]:3000/a.png", "is ::1, a loopback address"],
    ["http://0x7f.1/a.png", "is 127.0.0.1, a loopback address"],
    ["http://2130706433/a.png", "is 127.0.0.1, a loopback address"],
    ["https://10.1.2.3/a.png", "is 10.1.2.3, a private address"],
    ["http://[::ffff:a00:5]/a.png", "a private address (IPv4 10.0.0.5 inside IPv6)"],
  ])("%s", async (url, message) => {
    const error = await refusal(url);
    expect(error.code).toBe("image_url_forbidden_address");
    expect(error.message).toContain(message);
  });

  test("IP literals are never resolved", async () => {
    await refusal("http://2130706433/a.png");
    expect(resolved).toEqual([]);
  });
  test("a name that does not resolve", async () => {
    expect((await refusal("http://nowhere.example/")).message).toContain("does not resolve to any address");
    expect((await refusal("http://unknown.example/")).code).toBe("image_fetch_failed");
  });
  test("a resolver that never answers runs into the time limit", async () => {
    const error = await refusal("http://slow.example/", { ...policy, timeoutMs: 50, resolve: () => new Promise(() => {}) });
    expect(error.code).toBe("image_fetch_timeout");
  });
});

describe("TLS for https images", () => {
  test("verification is always on, whatever NODE_TLS_REJECT_UNAUTHORIZED says; the host name is the server name", () => {
    expect(verifiedTls("public.example", undefined)).toEqual({ rejectUnauthorized: true, serverName: "public.example" });
    expect(verifiedTls(undefined, undefined)).toEqual({ rejectUnauthorized: true });
    expect(verifiedTls("public.example", ["PEM"])).toEqual({ rejectUnauthorized: true, serverName: "public.example", ca: ["PEM"] });
  });
  test("production trusts the system's roots: no ca", () => {
    expect(publicImagePolicy().ca).toBeUndefined();
  });

  const named = (code: string) =>
    tlsRefusal(Object.assign(new TypeError("x"), { code }), "image_url's host public.example", "public.example", "input[0].image_url.url");
  test.each([
    ["ERR_TLS_CERT_ALTNAME_INVALID", "its certificate is not valid for public.example"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "its certificate is self-signed"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "its certificate is not signed by a trusted certificate authority"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "its certificate is not signed by a trusted certificate authority"],
    ["CERT_HAS_EXPIRED", "its certificate has expired"],
    ["EPROTO", "the TLS handshake failed"],
    ["ERR_SSL_SOMETHING_NEW", "TLS verification failed"],
  ])("%s is a 400 naming the reason", (code, reason) => {
    const refusal = named(code)!;
    expect(refusal).toBeInstanceOf(ProxyError);
    expect(refusal).toMatchObject({ status: 400, code: "image_fetch_tls_failed", param: "input[0].image_url.url" });
    expect(refusal.message).toBe(`image_url's host public.example could not be verified over TLS: ${reason} (${code}).`);
  });
  test("other failures are not TLS failures", () => {
    expect(named("ECONNREFUSED")).toBeNull();
    expect(tlsRefusal(new Error("no code"), "w", "h", "p")).toBeNull();
    expect(tlsRefusal(null, "w", "h", "p")).toBeNull();
  });
});

describe("image parts per request", () => {
  const body = (input: unknown) => parseProxyBody(new TextEncoder().encode(JSON.stringify({ model: "m", input })) as Uint8Array<ArrayBuffer>);
  const image = (url: string) => ({ type: "image_url", image_url: { url } });
  const tiny = "data:image/png;base64,AA==";

  test("more than the cap is refused before any name is resolved, data: URLs counted too", async () => {
    const resolved: string[] = [];
    const policy: ImageFetchPolicy = { ...publicImagePolicy({ maxPerRequest: 3 }), resolve: async (name) => (resolved.push(name), ["93.184.216.34"]) };
    const input = [[image("http://a.example/1.png")], [image(tiny)], [image(tiny), image("http://b.example/2.png")]];
    const error = await inlineImages(body(input), policy).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({
      status: 400,
      code: "image_count_exceeded",
      param: "input",
      message: "input has 4 image parts; at most 3 are accepted per request.",
    });
    expect(resolved).toEqual([]);
  });
  test("up to the cap passes (data: URLs only: the body is returned as is)", async () => {
    const sent = body(Array.from({ length: 3 }, () => image(tiny)));
    expect(await inlineImages(sent, publicImagePolicy({ maxPerRequest: 3 }))).toBe(sent);
  });
  test("the default cap is 16", () => {
    expect(publicImagePolicy().maxPerRequest).toBe(16);
    expect(publicImagePolicy({ maxPerRequest: undefined }).maxPerRequest).toBe(16);
  });
});
