import { requestInstall } from "../../runtimes/installs";
import { listRuntimes } from "../../runtimes/list";
import { installRuntimeInput } from "../../runtimes/schemas";
import { accountProcedure, router, userProcedure } from "../init";

export const runtimesRouter = router({
  /** Each runtime, whether its real binary is on this machine (else pods run the reference runtime), and any build. */
  list: accountProcedure.query(({ ctx }) => listRuntimes(ctx.db)),
  install: userProcedure.input(installRuntimeInput).mutation(({ ctx, input }) => requestInstall(ctx.account, ctx.jobs, input.runtimeId)),
});
