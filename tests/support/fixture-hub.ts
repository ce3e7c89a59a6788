/**
 * A local stand-in for the Hugging Face hub: the parts of its API the hub
 * client uses, answered from the bundled snapshots (src/hub/snapshots) and,
 * for weight files, from a directory given at start. Like the real hub it
 * names refusals in `X-Error-Code`, hides gated repos from requests without
 * the right token, and redirects file downloads to a "CDN" path carrying
 * `X-Linked-Size` and `X-Linked-Etag` (the sha256), which honours `Range`.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { bundledSnapshots, type SnapshotStore } from "../../src/hub/snapshots";

export interface FixtureHubOptions {
  /** The token that opens gated repos; any other token gets 403, none gets 401. */
  token?: string;
  /** Weight files: `<filesDir>/<org>/<name>/<file>`, or `<filesDir>/<file>` for any repo that lists the file. */
  filesDir?: string;
  /** Throttle file downloads to about this rate, so progress can be watched. */
  bytesPerSecond?: number;
  /** Default the bundled snapshots. */
  snapshots?: SnapshotStore;
  /**
   * "refused" (default): a gated repo's model info needs the token too.
   * "public": as on huggingface.co, anyone sees the model info and only the files are gated.
   */
  gatedModelInfo?: "refused" | "public";
  /** Wait this long before answering anything (for timeout tests). */
  latencyMs?: number;
}

export interface FixtureHub {
  url: string;
  /** Every request as "METHOD /path", in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startFixtureHub(options: FixtureHubOptions = {}): Promise<FixtureHub> {
  const snapshots = options.snapshots ?? bundledSnapshots;
  const requests: string[] = [];
  const hashes = new Map<string, string>();

  const fileOnDisk = (repo: string, file: string): string | undefined => {
    if (!options.filesDir) return undefined;
    const root = resolve(options.filesDir);
    for (const candidate of [join(root, repo, file), join(root, file)]) {
      if (candidate.startsWith(root + sep) && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    return undefined;
  };

  const modelInfo = (repo: string) => {
    const info = snapshots.modelInfo(repo);
    if (!info) return undefined;
    // Sizes of the files actually on disk win (the tiny GGUF is generated, its size not known in advance).
    const siblings = info.siblings.map((s) => {
      const path = fileOnDisk(info.id, s.rfilename);
      return path ? { ...s, size: statSync(path).size } : s;
    });
    return { ...info, siblings };
  };

  const access = (request: Request, gated: boolean): Response | undefined => {
    if (!gated) return undefined;
    const auth = request.headers.get("authorization");
    if (options.token && auth === `Bearer ${options.token}`) return undefined;
    return refusal(auth ? 403 : 401, "GatedRepo", "Access to this model is restricted. You must have access to it and be authenticated to access it.");
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}`);
      if (options.latencyMs) await Bun.sleep(options.latencyMs);

      const api = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(url.pathname);
      if (api) {
        const info = modelInfo(decodeURIComponent(api[1]!));
        if (!info) return refusal(404, "RepoNotFound", "Repository not found");
        if (options.gatedModelInfo !== "public") {
          const refused = access(request, Boolean(info.gated));
          if (refused) return refused;
        }
        return Response.json(info);
      }

      const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
      if (resolveMatch) {
        const repo = decodeURIComponent(resolveMatch[1]!);
        const file = resolveMatch[2]!.split("/").map(decodeURIComponent).join("/");
        const info = snapshots.modelInfo(repo);
        if (!info) return refusal(404, "RepoNotFound", "Repository not found");
        const refused = access(request, Boolean(info.gated));
        if (refused) return refused;
        const text = snapshots.text(repo, file);
        if (text !== undefined && file !== "model-info.json") {
          return new Response(text, { headers: { "content-type": "application/json", etag: `"${gitBlobSha(text)}"` } });
        }
        const path = fileOnDisk(info.id, file);
        if (!path) return refusal(404, "EntryNotFound", `${file} does not exist on "main"`);
        let sha = hashes.get(path);
        if (!sha) hashes.set(path, (sha = createHash("sha256").update(readFileSync(path)).digest("hex")));
        return new Response(null, {
          status: 302,
          headers: {
            location: `/_cdn/${info.id}/${file}`,
            "x-linked-size": String(statSync(path).size),
            "x-linked-etag": `"${sha}"`,
          },
        });
      }

      const cdn = /^\/_cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
      if (cdn) {
        const path = fileOnDisk(decodeURIComponent(cdn[1]!), cdn[2]!.split("/").map(decodeURIComponent).join("/"));
        if (!path) return new Response("not found", { status: 404 });
        return serveFile(path, request.headers.get("range"), options.bytesPerSecond);
      }
      return new Response("not found", { status: 404 });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    stop: async () => {
      await server.stop(true);
    },
  };
}

function refusal(status: number, code: string, message: string): Response {
  return Response.json({ error: message }, { status, headers: { "x-error-code": code, "x-error-message": message } });
}

/** A file with `Content-Length`, `Range: bytes=a-` and `bytes=a-b` support, and optionally throttled. */
function serveFile(path: string, range: string | null, bytesPerSecond: number | undefined): Response {
  const size = statSync(path).size;
  const asked = /^bytes=(\d+)-(\d*)$/.exec(range ?? "");
  const start = Number(asked?.[1] ?? 0);
  const end = Math.min(asked?.[2] ? Number(asked[2]) + 1 : size, size); // exclusive
  if (asked && (start >= size || start >= end)) {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${size}` } });
  }
  const headers: Record<string, string> = { "content-length": String(end - start), "accept-ranges": "bytes" };
  const status = asked ? 206 : 200;
  if (asked) headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  const file = Bun.file(path);
  if (!bytesPerSecond) return new Response(file.slice(start, end), { status, headers });

  const tickMs = 50;
  const chunk = Math.max(1, Math.floor((bytesPerSecond * tickMs) / 1000));
  let position = start;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (position >= end) return controller.close();
      await Bun.sleep(tickMs);
      const bytes = new Uint8Array(await file.slice(position, Math.min(position + chunk, end)).arrayBuffer());
      position += bytes.byteLength;
      controller.enqueue(bytes);
    },
  });
  return new Response(body, { status, headers });
}

/** The git blob id the hub gives small files as their ETag. */
function gitBlobSha(text: string): string {
  const bytes = Buffer.from(text);
  return createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}

/** A GGUF metadata value for `ggufBytes`: numbers are written as u32 (integers) or f32, arrays of strings as such. */
export type GgufTestValue = string | number | boolean | string[];

/**
 * A GGUF v3 file with the given metadata, no tensors, and `padding` bytes of
 * stand-in weights after the header, for the fixture to serve.
 */
export function ggufBytes(metadata: Record<string, GgufTestValue>, padding = 0): Uint8Array<ArrayBuffer> {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    parts.push(b);
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    parts.push(b);
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s);
    u64(bytes.byteLength);
    parts.push(bytes);
  };
  parts.push(Buffer.from("GGUF"));
  u32(3);
  u64(0);
  u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    str(key);
    if (typeof value === "string") u32(8), str(value);
    else if (typeof value === "boolean") u32(7), parts.push(Buffer.from([value ? 1 : 0]));
    else if (Array.isArray(value)) u32(9), u32(8), u64(value.length), value.forEach(str);
    else if (Number.isInteger(value)) u32(4), u32(value);
    else {
      u32(6);
      const b = Buffer.alloc(4);
      b.writeFloatLE(value);
      parts.push(b);
    }
  }
  parts.push(Buffer.alloc(padding));
  return new Uint8Array(Buffer.concat(parts));
}
