import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

export const load: PageLoad = ({ url }) =>
  loadOrSignIn(url, async () => {
    const [balance, ledger] = await Promise.all([trpc.billing.balance.query(), trpc.billing.ledger.query({ limit: 25 })]);
    return { balance, ledger };
  });
