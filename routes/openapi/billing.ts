import { checkoutInput, debitInput, ledgerQuery } from "../../src/billing/schemas";
import { usageRestQuery } from "../../src/usage/schemas";
import { type Operation, operation } from "../rest-operations";
import * as out from "./responses";

/** The billing routes (routes/billing.ts mounts them) described from the schemas they validate with. */
export function billingOperations(): Operation[] {
  const checkout = (path: string, operationId: string) =>
    operation({
      method: "post",
      path,
      operationId,
      tag: "Billing",
      summary: "Open a checkout to top up the balance",
      description: "Answers the payment page's URL; the balance grows when the payment provider confirms it.",
      scope: "full",
      body: checkoutInput,
      response: out.checkout,
    });
  return [
    operation({
      method: "get",
      path: "/billing/balance",
      operationId: "getBalance",
      tag: "Billing",
      summary: "The balance, grace window, burn rate and runway (as `qdz balance --json`)",
      scope: "read",
      response: out.balance,
    }),
    operation({
      method: "get",
      path: "/billing/ledger",
      operationId: "listLedger",
      tag: "Billing",
      summary: "The ledger's entries, newest first",
      scope: "read",
      query: ledgerQuery,
      response: out.ledgerPage,
    }),
    operation({
      method: "get",
      path: "/billing/usage",
      operationId: "getBillingUsage",
      tag: "Billing",
      summary: "The account's usage, or one instance's with instance_id (as `qdz usage --json`)",
      scope: "read",
      query: usageRestQuery,
      response: out.usage,
    }),
    checkout("/billing/checkout", "createCheckout"),
    checkout("/v1/billing/checkout", "createCheckoutV1"),
    operation({
      method: "post",
      path: "/billing/debit",
      operationId: "postDebit",
      tag: "Billing",
      summary: "Debit an account, idempotently by reference (the platform's scheduler only)",
      scope: "internal",
      body: debitInput,
      response: out.debit,
    }),
  ];
}
