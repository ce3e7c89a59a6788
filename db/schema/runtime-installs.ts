import { pgEnum, pgTable, real, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns";

export const installState = pgEnum("install_state", ["installing", "installed", "failed"]);

/** Runtime binaries built on this platform's machine (llama.cpp's llama-server), with the progress of a build. */
export const runtimeInstalls = pgTable("runtime_installs", {
  runtimeId: text("runtime_id").primaryKey(),
  state: installState("state").notNull(),
  version: text("version"),
  phase: text("phase"),
  /** 0..1 while compiling; null when the step has no measure. */
  progress: real("progress"),
  message: text("message"),
  binaryPath: text("binary_path"),
  error: text("error"),
  startedAt: timestamptz("started_at").notNull().defaultNow(),
  finishedAt: timestamptz("finished_at"),
});
