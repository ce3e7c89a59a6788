import { z } from "zod";
import { readCatalog } from "../../catalog/queries";
import { findRuntimeBinary } from "../../providers/local/local-provider";
import { INSTALLABLE, installStates, requestInstall } from "../../runtimes/installs";
import { safeString } from "../../validation";
import { accountProcedure, router, userProcedure } from "../init";

export const runtimesRouter = router({
  /** Each runtime, whether its real binary is on this machine (else pods run the reference runtime), and any build. */
  list: accountProcedure.query(async ({ ctx }) => {
    const [{ runtimes }, installs] = await Promise.all([readCatalog(ctx.db), installStates(ctx.db)]);
    return runtimes.map((runtime) => {
      const binary = runtime.localBinary ? findRuntimeBinary(runtime.localBinary) : null;
      return {
        id: runtime.id,
        name: runtime.name,
        image: runtime.image,
        tasks: runtime.tasks,
        formats: runtime.formats,
        localBinary: runtime.localBinary || null,
        binaryPath: binary,
        /** What pods of this runtime run on the local provider right now. */
        servedBy: runtime.id === "reference" || binary ? runtime.name : "QDivZero reference runtime (stand-in)",
        installable: (INSTALLABLE as readonly string[]).includes(runtime.id),
        install: installs.find((i) => i.runtimeId === runtime.id) ?? null,
      };
    });
  }),

  install: userProcedure
    .input(z.object({ runtimeId: safeString().min(1).max(32) }))
    .mutation(({ ctx, input }) => requestInstall(ctx.account, ctx.jobs, input.runtimeId)),
});
