import { loadOrSignIn } from "#lib/navigation.ts";
import { trpc } from "#lib/trpc.ts";
import type { PageLoad } from "./$types";

/** Operators only: anyone else gets the page's refusal, without a call the api would refuse anyway. */
export const load: PageLoad = async ({ url, parent }) => {
  const { me } = await parent();
  if (!me.isOperator) return { overview: null };
  return loadOrSignIn(url, async () => {
    const [providers, pods, queues, reviews, accounts] = await Promise.all([
      trpc.operator.providers.query(),
      trpc.operator.pods.query(),
      trpc.operator.queues.query(),
      trpc.operator.paymentReviews.query(),
      trpc.operator.accounts.query({ limit: 25 }),
    ]);
    return { overview: { providers, pods, queues, reviews, accounts } };
  });
};
