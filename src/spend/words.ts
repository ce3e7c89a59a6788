const eur = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR" });

/** `2500` → `€25.00`, read as an exact decimal (see web/src/lib/money.ts). */
export function formatEur(cents: number): string {
  return eur.format(`${cents}e-2` as Intl.StringNumericLiteral);
}
