import { redirect } from "@sveltejs/kit";

/** "Billing → Top up" as a link (and the Billing document's example cancel URL): Billing with the dialog open. */
export const load = () => redirect(307, "/billing?top_up=open");
