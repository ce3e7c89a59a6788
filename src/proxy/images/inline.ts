import { fetchImage, type ImageFetchPolicy } from "./fetch-image";
import { imageSource } from "./image-url";
import { imageParts } from "./parts";

const utf8 = new TextDecoder();

/**
 * An embeddings body with every http(s) image replaced by a `data:` URL of
 * its bytes, because runtimes never fetch URLs. A body without remote images
 * is returned as the same bytes; one with them is re-serialised. `data:`
 * URLs stay as they are once within the size cap.
 */
export async function inlineImages(body: Uint8Array<ArrayBuffer>, policy: ImageFetchPolicy): Promise<Uint8Array<ArrayBuffer>> {
  // requestedModel has already refused anything that is not a JSON object.
  const parsed = JSON.parse(utf8.decode(body)) as { input?: unknown };
  const parts = imageParts(parsed.input);
  if (parts.length === 0) return body;
  const remote = parts.filter((part) => imageSource(part.url, policy.maxBytes, part.param).kind === "remote");
  if (remote.length === 0) return body;
  const images = await Promise.all(remote.map((part) => fetchImage(part.url, part.param, policy)));
  remote.forEach((part, i) => {
    part.replace(`data:${images[i]!.mime};base64,${Buffer.from(images[i]!.bytes).toString("base64")}`);
  });
  return new TextEncoder().encode(JSON.stringify(parsed)) as Uint8Array<ArrayBuffer>;
}
