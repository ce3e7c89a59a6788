import { expect, test } from "bun:test";
import { InvalidInputError } from "../../src/errors";
import { parseRepoFile, parseRepoId, repoFileUrlPath } from "../../src/hub/repo-id";

test("accepts the hub's ids and pasted links", () => {
  expect(parseRepoId("Qwen/Qwen2.5-0.5B-Instruct")).toBe("Qwen/Qwen2.5-0.5B-Instruct");
  expect(parseRepoId("  BAAI/bge-small-en-v1.5 ")).toBe("BAAI/bge-small-en-v1.5");
  expect(parseRepoId("my_org/model_v2")).toBe("my_org/model_v2");
  expect(parseRepoId("https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct")).toBe("meta-llama/Llama-3.3-70B-Instruct");
  expect(parseRepoId("https://huggingface.co/Qwen/Qwen3-8B/tree/main?x=1")).toBe("Qwen/Qwen3-8B");
  expect(parseRepoId("https://hf.co/Qwen/Qwen3-8B")).toBe("Qwen/Qwen3-8B");
});

test("refuses anything else with an InvalidInputError on the repo field", () => {
  for (const bad of [
    "",
    "gpt2",
    "a/b/c",
    "/name",
    "org/",
    "org/-name",
    "org/name-",
    "org/.name",
    "org/na--me",
    "org/na..me",
    "org/name.git",
    "org/na me",
    "org/na%me",
    `org/${"x".repeat(97)}`,
    "../etc/passwd",
  ]) {
    let error: unknown;
    try {
      parseRepoId(bad);
    } catch (e) {
      error = e;
    }
    expect(error, bad).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("repo");
  }
});

test("file paths stay inside the repo and are encoded per segment", () => {
  expect(parseRepoFile("original/params.json")).toBe("original/params.json");
  for (const bad of ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b"]) expect(() => parseRepoFile(bad)).toThrow(InvalidInputError);
  expect(repoFileUrlPath("o/n", "dir/a b#c.json")).toBe("/o/n/resolve/main/dir/a%20b%23c.json");
});
