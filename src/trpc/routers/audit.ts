import { auditActors, listAudit } from "../../audit/list";
import { auditListInput } from "../../audit/schemas";
import { accountProcedure, router } from "../init";

export const auditRouter = router({
  /** The account's trail, newest first; owners see every row, members their own and their keys' (src/audit/list.ts). */
  list: accountProcedure.input(auditListInput).query(({ ctx, input }) => listAudit(ctx.account, input)),
  /** Who appears in the rows the caller can see: the Activity filter's choices. */
  actors: accountProcedure.query(({ ctx }) => auditActors(ctx.account)),
});
