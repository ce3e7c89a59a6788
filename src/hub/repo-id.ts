import { InvalidInputError } from "../errors";

/**
 * The hub's own rules for a repo id (huggingface_hub's `validate_repo_id`):
 * `namespace/name`, each part letters, digits, `-`, `_` and `.`, not starting
 * or ending with `-` or `.`, no `--` or `..`, a name of at most 96 characters
 * and not ending in `.git`. Checking before any request keeps a typo from
 * turning into a confusing 401 (the hub answers 401, not 404, for unknown
 * repos when no token is sent).
 */
const PART = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
const MAX_NAME_LENGTH = 96;

/** Accepts `org/name` or a pasted `https://huggingface.co/org/name[/...]` link; returns `org/name`. */
export function parseRepoId(input: string): string {
  let text = input.trim();
  const link = /^https?:\/\/(?:www\.)?(?:huggingface\.co|hf\.co)\/(.+)$/i.exec(text);
  if (link) text = link[1]!.split(/[/?#]/).slice(0, 2).join("/");
  const parts = text.split("/");
  const hint = "Expected a Hugging Face repo id like 'Qwen/Qwen2.5-0.5B-Instruct'.";
  if (parts.length !== 2) throw new InvalidInputError(`'${input}' is not a repo id. ${hint}`, "repo");
  const [namespace, name] = parts as [string, string];
  for (const part of parts) {
    if (!PART.test(part) || part.includes("--") || part.includes("..")) {
      throw new InvalidInputError(`'${input}' is not a valid repo id: use letters, digits, '-', '_' and '.', not at the start or end. ${hint}`, "repo");
    }
  }
  if (name.length > MAX_NAME_LENGTH || namespace.length > MAX_NAME_LENGTH) {
    throw new InvalidInputError(`'${input}' is too long for a repo id (at most ${MAX_NAME_LENGTH} characters a part).`, "repo");
  }
  if (name.endsWith(".git")) throw new InvalidInputError(`'${input}' is not a valid repo id: it cannot end in '.git'.`, "repo");
  return `${namespace}/${name}`;
}

/** A file path inside a repo, as the hub lists it in `siblings[].rfilename`; refuses anything that could escape. */
export function parseRepoFile(path: string): string {
  const parts = path.split("/");
  if (!path || path.startsWith("/") || parts.some((part) => part === "" || part === "." || part === "..") || /[\\\0]/.test(path)) {
    throw new InvalidInputError(`'${path}' is not a file path inside a repo.`, "file");
  }
  return path;
}

/** The URL path of a repo file, each segment encoded (file names may hold spaces or `#`). */
export function repoFileUrlPath(repo: string, file: string): string {
  return `/${repo}/resolve/main/${file.split("/").map(encodeURIComponent).join("/")}`;
}
