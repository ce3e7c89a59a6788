/**
 * The image parts of an embeddings `input`: a list of parts
 * (`[{type:"text"}, {type:"image_url"}]`), a list of such lists, or a single
 * part. Strings and token lists have none. Each comes with the `param` path
 * errors name, e.g. `input[1].image_url.url`.
 */
export interface ImagePart {
  url: string;
  param: string;
  /** Replaces the URL in the parsed body itself. */
  replace: (url: string) => void;
}

export function imageParts(input: unknown): ImagePart[] {
  const found: ImagePart[] = [];
  if (Array.isArray(input)) {
    for (const [i, item] of input.entries()) {
      if (Array.isArray(item)) for (const [j, part] of item.entries()) collect(part, `input[${i}][${j}]`, found);
      else collect(item, `input[${i}]`, found);
    }
  } else collect(input, "input", found);
  return found;
}

function collect(part: unknown, path: string, found: ImagePart[]) {
  if (typeof part !== "object" || part === null || (part as { type?: unknown }).type !== "image_url") return;
  const holder = part as { image_url?: unknown };
  const imageUrl = holder.image_url;
  // The runtimes also take `image_url` as a bare string; it must not slip past as text.
  if (typeof imageUrl === "string") {
    found.push({ url: imageUrl, param: `${path}.image_url`, replace: (url) => (holder.image_url = url) });
    return;
  }
  // A malformed part is left for the runtime to refuse in its own words; only URLs we would act on matter here.
  if (typeof imageUrl !== "object" || imageUrl === null || typeof (imageUrl as { url?: unknown }).url !== "string") return;
  const object = imageUrl as { url: string };
  found.push({ url: object.url, param: `${path}.image_url.url`, replace: (url) => (object.url = url) });
}
