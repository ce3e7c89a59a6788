import type { ProxyBody } from "../body";
import { fetchImage, type ImageFetchPolicy } from "./fetch-image";
import { imageSource } from "./image-url";
import { imageParts } from "./parts";
import { imageRefused } from "./refusals";

/** Fetches in flight for one request: enough to overlap slow hosts, few enough that one request cannot open dozens of connections. */
const fetchesAtOnce = 4;

/**
 * An embeddings body with every http(s) image replaced by a `data:` URL of
 * its bytes, because runtimes never fetch URLs. A body without remote images
 * is returned as the same bytes; one with them is re-serialised. `data:`
 * URLs stay as they are once within the size cap.
 */
export async function inlineImages(body: ProxyBody, policy: ImageFetchPolicy): Promise<ProxyBody> {
  const parts = imageParts(body.json.input);
  if (parts.length === 0) return body;
  // Every image part counts, data: URLs too, and before any URL is looked at: the cap bounds what one request can cost.
  if (parts.length > policy.maxPerRequest) {
    throw imageRefused("image_count_exceeded", `input has ${parts.length} image parts; at most ${policy.maxPerRequest} are accepted per request.`, "input");
  }
  if (!parts.some((part) => imageSource(part.url, policy.maxBytes, part.param).kind === "remote")) return body;
  // The parts of a copy are replaced: the body as received stays as received.
  const json = structuredClone(body.json);
  const remote = imageParts(json.input).filter((part) => imageSource(part.url, policy.maxBytes, part.param).kind === "remote");
  const images = await boundedMap(remote, fetchesAtOnce, (part) => fetchImage(part.url, part.param, policy));
  remote.forEach((part, i) => {
    part.replace(`data:${images[i]!.mime};base64,${Buffer.from(images[i]!.bytes).toString("base64")}`);
  });
  return { ...body, json, bytes: new TextEncoder().encode(JSON.stringify(json)) as Uint8Array<ArrayBuffer> };
}

/** `work` on every item, at most `limit` at a time, results in the items' order. After a failure no new item starts. */
async function boundedMap<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
