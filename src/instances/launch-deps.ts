import type { Config } from "../config";
import { HubClient } from "../hub/client";
import type { JobQueue } from "../jobs/queue";
import { currentOffers } from "../providers/offers";
import type { Provider } from "../providers/seam";
import type { LaunchDeps } from "./launch";

/** What a launch (and its check) needs from the process, the same for tRPC and REST. */
export function launchDepsOf(services: { jobs: JobQueue; config: Config; providers: Provider[] }): LaunchDeps {
  return {
    jobs: services.jobs,
    hub: (token) => new HubClient({ endpoint: services.config.HF_ENDPOINT, token }),
    graceWindowHours: services.config.GRACE_WINDOW_HOURS,
    minRunwayHours: services.config.MIN_RUNWAY_HOURS,
    offers: () => currentOffers(services.providers),
  };
}
