import { createCallerFactory, router } from "./init";
import { accountRouter } from "./routers/account";
import { apiKeysRouter } from "./routers/api-keys";
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { billingRouter } from "./routers/billing";
import { budgetsRouter } from "./routers/budgets";
import { firewallsRouter } from "./routers/firewalls";
import { instancesRouter } from "./routers/instances";
import { notificationsRouter } from "./routers/notifications";
import { operatorRouter } from "./routers/operator";
import { runtimesRouter } from "./routers/runtimes";
import { schedulesRouter } from "./routers/schedules";
import { sshKeysRouter } from "./routers/ssh-keys";
import { usageRouter } from "./routers/usage";
import { webhooksRouter } from "./routers/webhooks";

export const appRouter = router({
  auth: authRouter,
  account: accountRouter,
  apiKeys: apiKeysRouter,
  sshKeys: sshKeysRouter,
  billing: billingRouter,
  usage: usageRouter,
  budgets: budgetsRouter,
  notifications: notificationsRouter,
  webhooks: webhooksRouter,
  schedules: schedulesRouter,
  instances: instancesRouter,
  audit: auditRouter,
  runtimes: runtimesRouter,
  firewalls: firewallsRouter,
  operator: operatorRouter,
});

/** The typed contract the web app and the CLI are checked against. */
export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
