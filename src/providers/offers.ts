import type { Offer } from "../scheduler/offers";
import type { Provider } from "./provider";

/**
 * The capacity every provider offers now, asked live. The one place placement,
 * the launch check and the launch verb read offers from, so a per-provider
 * cache can replace it; a provider that cannot answer offers nothing.
 */
export async function currentOffers(providers: readonly Provider[]): Promise<Offer[]> {
  return (await Promise.all(providers.map((p) => p.offers().catch(() => [] as Offer[])))).flat();
}
