const eur = new Intl.NumberFormat("en-IE", { style: "currency", currency: "EUR" });

/** Money is integer EUR cents everywhere; this is the one place it becomes text. */
export function formatEur(cents: number): string {
  return eur.format(cents / 100);
}
