/**
 * Where `?next=` may send someone once they are signed in: a path of this origin only. Whatever would
 * leave it is refused — an absolute URL, `//host` (protocol-relative), `/\host` or `/<tab>/host` (browsers
 * read `\` as `/` and drop tabs), `/.//host` (which resolves to a path starting `//`), `javascript:` — so a
 * sign-in link can never be used to send a signed-in person elsewhere.
 */
export function sameOriginPath(next: string | null | undefined, origin: string): string | null {
  if (!next?.startsWith("/")) return null;
  let base: URL;
  let resolved: URL;
  try {
    base = new URL(origin);
    resolved = new URL(next, base);
  } catch {
    return null;
  }
  if (resolved.origin !== base.origin || resolved.pathname.startsWith("//")) return null;
  return resolved.pathname + resolved.search + resolved.hash;
}
