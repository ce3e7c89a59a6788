import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";
import { ledgerKind } from "./ledger-kinds";

/** The kind filter lives in the URL (`?kind=topup`), so a filtered ledger can be reloaded and shared. */
export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const kind = ledgerKind(url.searchParams.get("kind"));
    const [balance, ledger, budgets, webhook, deliveries] = await Promise.all([
      trpc.billing.balance.query(),
      trpc.billing.ledger.query({ limit: 25, kind }),
      trpc.budgets.list.query(),
      trpc.webhooks.get.query(),
      trpc.webhooks.deliveries.query({ limit: 10 }),
    ]);
    return { balance, ledger, kind, budgets, webhook, deliveries };
  });
