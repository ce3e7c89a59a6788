import type { Offer } from "../scheduler/offers";
import type { OfferQuery, PodLaunch, PodRef, Provider } from "./seam";

/**
 * A cloud that prices in US dollar cents (RunPod, Vast.ai, Lambda), seen in euro cents as every price of the
 * platform is: its offers' provider cost is converted at `eurPerUsd`, rounded up, so a cost is never understated
 * and the rule that refuses capacity costing more than the instance's locked rate stays on the safe side. The
 * adapter gets back the offer it gave, in its own currency.
 */
export class EuroPricedProvider implements Provider {
  readonly id: string;
  readonly logs?: Provider["logs"];
  private readonly given = new Map<string, Offer>();

  constructor(
    private readonly inner: Provider,
    private readonly eurPerUsd: number,
  ) {
    this.id = inner.id;
    if (inner.logs) this.logs = (pod, stream, tailLines) => inner.logs!(pod, stream, tailLines);
  }

  async offers(query: OfferQuery): Promise<Offer[]> {
    const offers = await this.inner.offers(query);
    this.given.clear();
    for (const offer of offers) this.given.set(offer.id, offer);
    return offers.map((offer) => ({ ...offer, providerCostCentsPerGpuHour: Math.ceil(offer.providerCostCentsPerGpuHour * this.eurPerUsd) }));
  }

  provision(launch: PodLaunch, offer: Offer) {
    const own = this.given.get(offer.id) ?? { ...offer, providerCostCentsPerGpuHour: Math.floor(offer.providerCostCentsPerGpuHour / this.eurPerUsd) };
    return this.inner.provision(launch, own);
  }

  stop(pod: PodRef) {
    return this.inner.stop(pod);
  }

  status(pod: PodRef) {
    return this.inner.status(pod);
  }

  pods() {
    return this.inner.pods();
  }
}
