import type { AccountContext } from "../context";
import { ForbiddenError } from "../errors";

export function requireOwner(ctx: AccountContext, what = "manage members"): void {
  if (ctx.role !== "owner") throw new ForbiddenError(`Only an account owner can ${what}.`);
}

export function requireUser(ctx: AccountContext): string {
  if (ctx.actor.kind !== "user") throw new ForbiddenError("This needs a signed-in person, not an API key.");
  return ctx.actor.userId;
}
