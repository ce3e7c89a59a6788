/**
 * The install's bookkeeping, without compiling anything: where it caches,
 * how it finds a binary, reuse of a cached one, and the build lock.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withBuildLock } from "../../src/runtimes/llama-cpp/build-lock";
import {
  buildPercent,
  findLlamaServer,
  type InstallProgress,
  installLlamaServer,
  LLAMA_CPP_TAG,
  llamaServerPath,
  qdzCacheDir,
} from "../../src/runtimes/llama-cpp/install";

let dir: string;
let savedCacheDir: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qdz-llama-install-"));
  savedCacheDir = process.env.QDZ_CACHE_DIR;
  process.env.QDZ_CACHE_DIR = join(dir, "cache");
});

afterEach(() => {
  if (savedCacheDir === undefined) delete process.env.QDZ_CACHE_DIR;
  else process.env.QDZ_CACHE_DIR = savedCacheDir;
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in `llama-server` that answers `--version` like the real one. */
function fakeServer(path: string, exitCode = 0): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `#!/bin/sh\necho "version: 7000 (abc1234)" >&2\necho "built with GNU 12.2.0 for Linux x86_64" >&2\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
}

describe("cache location", () => {
  test("QDZ_CACHE_DIR, else XDG_CACHE_HOME/qdz, else ~/.cache/qdz; empty values count as unset", () => {
    expect(qdzCacheDir({ QDZ_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/c");
    expect(qdzCacheDir({ QDZ_CACHE_DIR: "", XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/x/qdz");
    expect(qdzCacheDir({ XDG_CACHE_HOME: "" }, "/home/u")).toBe("/home/u/.cache/qdz");
  });

  test("the binary is kept per llama.cpp release", () => {
    expect(llamaServerPath()).toBe(join(dir, "cache", "llama.cpp", LLAMA_CPP_TAG, "llama-server"));
  });
});

describe("findLlamaServer", () => {
  test("the cached binary first, then llama-server on PATH, else null", () => {
    const onPath = join(dir, "bin", "llama-server");
    fakeServer(onPath);
    const env = { QDZ_CACHE_DIR: join(dir, "cache"), PATH: join(dir, "bin") };
    expect(findLlamaServer({ ...env, PATH: "/nonexistent" })).toBeNull();
    expect(findLlamaServer(env)).toBe(onPath);
    fakeServer(llamaServerPath());
    expect(findLlamaServer(env)).toBe(llamaServerPath());
  });
});

describe("installLlamaServer", () => {
  test("a cached binary that runs is reused without fetching anything", async () => {
    fakeServer(llamaServerPath());
    const progress: InstallProgress[] = [];
    const installed = await installLlamaServer({ onProgress: (p) => progress.push(p) });
    expect(installed).toEqual({ path: llamaServerPath(), tag: LLAMA_CPP_TAG, version: "version: 7000 (abc1234)", built: false });
    expect(progress.map((p) => p.phase)).toEqual(["done"]);
  });
});

describe("build progress", () => {
  test("make's and ninja's progress lines give a percentage; other lines none", () => {
    expect(buildPercent("[ 42%] Building CXX object src/CMakeFiles/llama.dir/llama.cpp.o")).toBe(42);
    expect(buildPercent("[100%] Built target llama-server")).toBe(100);
    expect(buildPercent("[57/140] Building CXX object common/arg.cpp.o")).toBe(40);
    expect(buildPercent("-- Configuring done")).toBeNull();
    expect(buildPercent("In file included from [ 3%]")).toBeNull();
  });
});

describe("build lock", () => {
  test("a second holder waits for the first, then runs", async () => {
    const lock = join(dir, "install.lock");
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = withBuildLock(lock, async () => {
      order.push("first starts");
      await firstHolds;
      order.push("first ends");
    });
    const waited: number[] = [];
    const second = withBuildLock(
      lock,
      async () => void order.push("second runs"),
      (pid) => waited.push(pid),
    );
    await Bun.sleep(1500);
    expect(order).toEqual(["first starts"]);
    expect(waited).toEqual([process.pid]);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(["first starts", "first ends", "second runs"]);
    expect(existsSync(lock)).toBe(false);
  });

  test("a lock left by a dead process is taken over", async () => {
    const lock = join(dir, "install.lock");
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(lock, String(dead));
    let ran = false;
    await withBuildLock(lock, async () => void (ran = true));
    expect(ran).toBe(true);
  });

  test("the lock is released when the build fails", async () => {
    const lock = join(dir, "install.lock");
    await expect(withBuildLock(lock, async () => Promise.reject(new Error("cmake failed")))).rejects.toThrow("cmake failed");
    expect(existsSync(lock)).toBe(false);
  });
});
