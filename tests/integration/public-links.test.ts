/**
 * Every link the platform makes is at PUBLIC_URL, whatever host the request came in on (issue 14, item 10):
 * the checkout, the pages the payment returns to, and invite links. The api here is reached on three other
 * hosts — loopback by address, by name, and a LAN address — as a CLI, a browser or a proxy might reach it.
 */
import { describe, expect, test } from "bun:test";
import { createTRPCClient, httpLink } from "@trpc/client";
import { eq } from "drizzle-orm";
import { checkoutSessions } from "../../db/schema";
import { createApp } from "../../server/app";
import { loadConfig } from "../../src/config";
import type { AppRouter } from "../../src/trpc/router";
import { transformer } from "../../src/trpc/wire";
import { freshDatabase } from "../support/db";
import { newUser } from "../support/factories";

const PUBLIC_URL = "https://compute.example";
const { db } = await freshDatabase();
const app = createApp({ db, config: loadConfig({ PUBLIC_URL, QDZ_DATA_DIR: ".data/test" }) });
const hosts = ["http://127.0.0.1:3000", "http://localhost:3000", "http://10.1.2.3:8080"];

/** A tRPC client, as the CLI makes one, whose requests arrive at the api addressed to `host`. */
function clientAt(host: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${host}/trpc`,
        transformer,
        headers: { authorization: `Bearer ${token}` },
        fetch: ((input: string | URL | Request, init?: RequestInit) => app.handle(new Request(input, init))) as typeof fetch,
      }),
    ],
  });
}

describe("links are at PUBLIC_URL whichever host the api was reached on", () => {
  test.each(hosts)("checkout, success and cancel pages, and the development gateway's redirect, via %s", async (host) => {
    const user = await newUser(db);
    const client = clientAt(host, user.sessionToken);

    const checkout = await client.billing.createCheckout.mutate({ amountCents: 2_000 });
    expect(checkout.url).toBe(`${PUBLIC_URL}/dev-checkout/${checkout.id}`);
    const [row] = await db.select().from(checkoutSessions).where(eq(checkoutSessions.id, checkout.id));
    expect(row).toMatchObject({
      url: checkout.url,
      successUrl: `${PUBLIC_URL}/billing/top-up/success?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${PUBLIC_URL}/billing?top_up=canceled`,
    });

    // The development gateway sends the person back where Stripe would: PUBLIC_URL, with the session id filled in.
    const paid = await client.billing.completeDevCheckout.mutate({ id: checkout.id, outcome: "pay" });
    expect(paid.redirectTo).toBe(`${PUBLIC_URL}/billing/top-up/success?session_id=${checkout.id}`);
    const other = await client.billing.createCheckout.mutate({ amountCents: 2_000 });
    expect(await client.billing.completeDevCheckout.mutate({ id: other.id, outcome: "cancel" })).toEqual({
      redirectTo: `${PUBLIC_URL}/billing?top_up=canceled`,
    });
  });

  test.each(hosts)("invite links, via %s", async (host) => {
    const owner = await newUser(db);
    const invite = await clientAt(host, owner.sessionToken).account.createInvite.mutate({ role: "member" });
    expect(invite.url).toBe(`${PUBLIC_URL}/invite/${invite.token}`);
  });

  test("return pages a client still sends (an older CLI's, at the host it used) are ignored", async () => {
    const user = await newUser(db);
    const client = clientAt("http://127.0.0.1:3000", user.sessionToken);
    const legacy = { amountCents: 2_000, successUrl: "http://127.0.0.1:3000/billing/top-up/success", cancelUrl: "http://127.0.0.1:3000/billing" };
    const checkout = await client.billing.createCheckout.mutate(legacy as { amountCents: number });
    const [row] = await db.select().from(checkoutSessions).where(eq(checkoutSessions.id, checkout.id));
    expect(new URL(row!.successUrl).origin).toBe(PUBLIC_URL);
    expect(new URL(row!.cancelUrl).origin).toBe(PUBLIC_URL);
  });
});
