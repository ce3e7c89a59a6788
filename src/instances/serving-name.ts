/**
 * The default serving name of a repo, `Qwen/Qwen2.5-0.5B-Instruct` →
 * `qwen2.5-0.5b-instruct`. Pure and dependency-free: the web app's Launch page
 * shows the same default the api will choose.
 */
export function servingNameFrom(repo: string): string {
  const name = (repo.trim().split("/").pop() ?? repo)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return (name || "model").slice(0, 56);
}
