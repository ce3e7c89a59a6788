import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { runtimeInstalls } from "../../db/schema";
import { requireOwner } from "../accounts/owners";
import { type AccountContext, withTransaction } from "../context";
import { ConflictError, InvalidInputError } from "../errors";
import type { JobQueue } from "../jobs/queue";

/** Runtimes this platform can build from source on its own machine. */
export const INSTALLABLE = ["llama.cpp"] as const;
export type InstallableRuntime = (typeof INSTALLABLE)[number];

export type RuntimeInstall = typeof runtimeInstalls.$inferSelect;

export async function installStates(db: Executor): Promise<RuntimeInstall[]> {
  return db.select().from(runtimeInstalls);
}

/** Starts a build (a worker job), unless one is already running; an installed runtime is rebuilt only if asked. */
export async function requestInstall(ctx: AccountContext, jobs: JobQueue, runtimeId: string): Promise<RuntimeInstall> {
  requireOwner(ctx, "install runtimes");
  if (!(INSTALLABLE as readonly string[]).includes(runtimeId)) {
    throw new InvalidInputError(`Only ${INSTALLABLE.join(", ")} can be installed here; '${runtimeId}' cannot.`, "runtimeId");
  }
  return withTransaction(ctx.db, async (tx) => {
    const [current] = await tx.select().from(runtimeInstalls).where(eq(runtimeInstalls.runtimeId, runtimeId)).for("update");
    // A build older than an hour belongs to a worker that died.
    if (current?.state === "installing" && Date.now() - current.startedAt.getTime() < 3_600_000) {
      throw new ConflictError(`${runtimeId} is already being installed (${current.message ?? current.phase}).`);
    }
    const row = {
      runtimeId,
      state: "installing" as const,
      phase: "queued",
      progress: null,
      message: "Waiting for a worker",
      error: null,
      finishedAt: null,
      startedAt: new Date(),
    };
    const [saved] = await tx.insert(runtimeInstalls).values(row).onConflictDoUpdate({ target: runtimeInstalls.runtimeId, set: row }).returning();
    await jobs.send("runtimes.install", { runtimeId }, { tx, singletonKey: `install:${runtimeId}` });
    return saved!;
  });
}

export async function recordInstallProgress(db: Executor, runtimeId: string, update: Partial<Omit<RuntimeInstall, "runtimeId">>): Promise<void> {
  await db.update(runtimeInstalls).set(update).where(eq(runtimeInstalls.runtimeId, runtimeId));
}

export async function finishInstall(db: Executor, runtimeId: string, outcome: { version: string; binaryPath: string } | { error: string }): Promise<void> {
  await db
    .update(runtimeInstalls)
    .set(
      "error" in outcome
        ? { state: "failed", error: outcome.error, message: outcome.error, finishedAt: sql`now()` }
        : {
            state: "installed",
            version: outcome.version,
            binaryPath: outcome.binaryPath,
            phase: "done",
            progress: 1,
            message: "Installed",
            error: null,
            finishedAt: sql`now()`,
          },
    )
    .where(eq(runtimeInstalls.runtimeId, runtimeId));
}
