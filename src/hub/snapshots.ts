import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ModelInfo, modelInfoSchema } from "./schemas";

/**
 * Model metadata shipped with the product (`snapshots/<org>/<name>/`:
 * `model-info.json` as `/api/models/{repo}?blobs=true` answers it, and
 * `config.json`). A machine that cannot reach the hub still validates these
 * models, and the test suite's fixture hub serves them.
 */
export class SnapshotStore {
  constructor(readonly dir: string) {}

  /** The shipped repos, `org/name`. */
  repos(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((org) => org.isDirectory())
      .flatMap((org) =>
        readdirSync(join(this.dir, org.name), { withFileTypes: true })
          .filter((name) => name.isDirectory() && existsSync(join(this.dir, org.name, name.name, "model-info.json")))
          .map((name) => `${org.name}/${name.name}`),
      )
      .sort();
  }

  has(repo: string): boolean {
    return this.#resolve(repo) !== undefined;
  }

  modelInfo(repo: string): ModelInfo | undefined {
    const text = this.text(repo, "model-info.json");
    return text === undefined ? undefined : modelInfoSchema.parse(JSON.parse(text));
  }

  /** A JSON file of the snapshot (config.json), or undefined when it has none. */
  json(repo: string, file: string): unknown {
    const text = this.text(repo, file);
    return text === undefined ? undefined : JSON.parse(text);
  }

  text(repo: string, file: string): string | undefined {
    const canonical = this.#resolve(repo);
    if (!canonical || file.split("/").includes("..")) return undefined;
    const path = join(this.dir, canonical, file);
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }

  /** The shipped spelling of a repo id: the hub treats ids case-insensitively (`qwen/qwen3-8b` is `Qwen/Qwen3-8B`). */
  #resolve(repo: string): string | undefined {
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || repo.includes("..")) return undefined;
    if (existsSync(join(this.dir, repo, "model-info.json"))) return repo;
    return this.repos().find((known) => known.toLowerCase() === repo.toLowerCase());
  }
}

export const bundledSnapshots = new SnapshotStore(join(import.meta.dir, "snapshots"));
