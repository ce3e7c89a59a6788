import { redirect } from "@sveltejs/kit";
import { trpc } from "#lib/trpc.ts";

/** The bare origin has no page of its own: the app for people signed in, sign-in for the rest. */
export async function load() {
  const me = await trpc.auth.me.query();
  redirect(307, me ? "/instances" : "/login");
}
