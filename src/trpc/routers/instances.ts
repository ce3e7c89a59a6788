import { z } from "zod";
import { balanceSummary } from "../../billing/grace";
import { readCatalog } from "../../catalog/queries";
import { InvalidInputError } from "../../errors";
import { assess, launchInstance } from "../../instances/launch";
import { checkLaunch } from "../../instances/launch-check";
import { launchDepsOf } from "../../instances/launch-deps";
import { byWhom, deleteMany, requestStart, requestStop, stopMany } from "../../instances/lifecycle";
import { idInput as id, idsInput as ids, instanceId, launchCheckInput, launchInput, logsQuery, settingsInput } from "../../instances/schemas";
import { updateSettings } from "../../instances/settings";
import { instanceDetail, instanceLogs, listInstances, listItem } from "../../instances/views";
import { meteredInstance } from "../../metering/metered";
import { hourlyRate, lockPricing, maxHourlyRate } from "../../pricing/snapshot";
import { safeString } from "../../validation";
import { accountProcedure, router } from "../init";

const launchDeps = launchDepsOf;

const who = (ctx: { account: { actor: Parameters<typeof byWhom>[0] }; caller: { user: { email: string } | null } }) =>
  byWhom(ctx.account.actor, ctx.caller.user?.email);

export const instancesRouter = router({
  catalog: accountProcedure.query(({ ctx }) => readCatalog(ctx.db)),

  /** The Launch page's live check of the model against the runtime and the GPUs (prices and runway: `quote`). */
  validate: accountProcedure
    .input(
      z.object({
        runtimeId: safeString().max(32),
        hfRepo: safeString().trim().min(1).max(200),
        modelFile: safeString().max(200).optional(),
        task: z.enum(["chat", "embeddings"]).optional(),
        contextLength: z.number().int().min(128).max(1_048_576).optional(),
        gpuPreferences: z.array(safeString().max(32)).min(1).max(8),
        gpuCount: z.number().int().min(1).max(8),
        hfToken: safeString().max(200).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const catalog = await readCatalog(ctx.db);
      const runtime = catalog.runtimes.find((r) => r.id === input.runtimeId);
      if (!runtime) throw new InvalidInputError(`There is no runtime '${input.runtimeId}'.`, "runtimeId");
      return assess(catalog, launchDeps(ctx), runtime, input);
    }),

  /** The Launch page's and `--validate-only`'s check: the model, and whether and where it can be placed now (with a GPU picked when none was chosen). */
  check: accountProcedure.input(launchCheckInput).query(({ ctx, input }) => checkLaunch(ctx.db, launchDeps(ctx), input)),

  launch: accountProcedure.input(launchInput).mutation(async ({ ctx, input }) => listItem(await launchInstance(ctx.account, launchDeps(ctx), input))),

  list: accountProcedure.query(({ ctx }) => listInstances(ctx.account)),
  get: accountProcedure.input(id).query(({ ctx, input }) => instanceDetail(ctx.account, input.id)),
  /** Billed seconds, rate, charge so far and the ledger's debits and refunds, per run and in total (`show --metered`). */
  metered: accountProcedure.input(id).query(({ ctx, input }) => meteredInstance(ctx.account, input.id)),
  /** The runtime's (or the agent's) captured output, last lines first kept. */
  logs: accountProcedure.input(id.extend(logsQuery.shape)).query(({ ctx, input }) => instanceLogs(ctx.account, ctx.providers, input.id, input)),

  start: accountProcedure
    .input(id)
    .mutation(async ({ ctx, input }) =>
      listItem(
        await requestStart(
          ctx.account,
          { jobs: ctx.jobs, graceWindowHours: ctx.config.GRACE_WINDOW_HOURS, minRunwayHours: ctx.config.MIN_RUNWAY_HOURS },
          input.id,
          `started ${who(ctx)}`,
        ),
      ),
    ),
  stop: accountProcedure.input(id).mutation(async ({ ctx, input }) => listItem(await requestStop(ctx.account, ctx.jobs, input.id, `stopped ${who(ctx)}`))),
  /** Stop many: one transaction for all of them. */
  stopMany: accountProcedure.input(ids).mutation(({ ctx, input }) => stopMany(ctx.account, ctx.jobs, input.ids, `stopped ${who(ctx)} (bulk)`)),
  delete: accountProcedure.input(id).mutation(({ ctx, input }) => deleteMany(ctx.account, ctx.jobs, [input.id], `deleted ${who(ctx)}`)),
  deleteMany: accountProcedure.input(ids).mutation(({ ctx, input }) => deleteMany(ctx.account, ctx.jobs, input.ids, `deleted ${who(ctx)} (bulk)`)),
  updateSettings: accountProcedure
    .input(settingsInput.extend({ id: instanceId }))
    .mutation(async ({ ctx, input }) => listItem(await updateSettings(ctx.account, input.id, input))),

  /** What a launch would cost: the hourly rate per GPU choice, and how long the balance lasts at the highest. */
  quote: accountProcedure
    .input(
      z.object({
        gpuPreferences: z.array(safeString().max(32)).min(1).max(8),
        gpuCount: z.number().int().min(1).max(8),
        tier: z.enum(["secure", "community"]),
        modelClass: z.enum(["pod", "embeddings", "llm", "llm_large"]),
      }),
    )
    .query(async ({ ctx, input }) => {
      const snapshot = await lockPricing(ctx.db, input);
      const summary = await balanceSummary(ctx.db, ctx.account.accountId, ctx.config.GRACE_WINDOW_HOURS);
      const max = maxHourlyRate(snapshot);
      return {
        rates: snapshot.rows.map((row) => ({ gpuType: row.gpuType, rateCentsPerHour: hourlyRate(snapshot, row.gpuType)! })),
        maxRateCentsPerHour: max,
        balanceCents: summary.balanceCents,
        runwaySeconds: max > 0 ? Math.max(0, Math.floor((summary.balanceCents / max) * 3600)) : null,
        minRunwayHours: ctx.config.MIN_RUNWAY_HOURS,
      };
    }),
});
