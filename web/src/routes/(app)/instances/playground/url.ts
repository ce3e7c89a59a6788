/**
 * The playground sheet's place in the URL, `?playground=<instance id>`, so a
 * link or a reload opens it and Back closes it. Opening is a shallow
 * navigation: the page under the sheet keeps its data and does not reload.
 */
import { goto } from "$app/navigation";
import { page } from "$app/state";

const PARAM = "playground";

/** The address bar's URL: after a shallow navigation, `page.url` is still the page the sheet opened over. */
const current = () => new URL((page.shallow?.url ?? page.url).href);

/** The instance whose playground is open, if any. */
export const openPlaygroundId = (): string | null => current().searchParams.get(PARAM);

/** A link that opens an instance's playground over its page. */
export const playgroundHref = (instanceId: string) => `/instances/${instanceId}?${PARAM}=${encodeURIComponent(instanceId)}`;

export function openPlayground(instanceId: string): Promise<void> {
  const url = current();
  url.searchParams.set(PARAM, instanceId);
  // A history entry of its own, so Back closes the sheet; the state marks it as one this page pushed.
  return goto(url, { shallow: true, state: { playground: instanceId } });
}

export async function closePlayground(): Promise<void> {
  if (!openPlaygroundId()) return;
  // Opened here: step back over the entry `openPlayground` pushed, so Back does not reopen it.
  if ("playground" in page.state) return history.back();
  // Arrived with the parameter (a shared link, a reload): drop it in place.
  const url = current();
  url.searchParams.delete(PARAM);
  await goto(url, { shallow: true, replace: true });
}
