/**
 * Who connects to the platform's database for what: the owner migrates and
 * grants, the app (api, workers) serves. With the embedded PostgreSQL these
 * are two roles it made; with your own, DATABASE_URL is the app's and
 * DATABASE_OWNER_URL (optional) the owner's.
 */
export interface DatabaseAccess {
  ownerUrl: string;
  appUrl: string;
  /** The app's role when it is not the owner's user; null means one user does both (no grants). */
  appRole: string | null;
}

/**
 * DATABASE_URL and DATABASE_OWNER_URL as a DatabaseAccess. The app role is
 * DATABASE_URL's user; when a URL names no user, the server says who it is.
 */
export async function externalDatabaseAccess(appUrl: string, ownerUrl: string | undefined): Promise<DatabaseAccess> {
  if (!ownerUrl) return { ownerUrl: appUrl, appUrl, appRole: null };
  const [appUser, ownerUser] = await Promise.all([userOf(appUrl), userOf(ownerUrl)]);
  return { ownerUrl, appUrl, appRole: appUser === ownerUser ? null : appUser };
}

async function userOf(url: string): Promise<string> {
  const named = decodeURIComponent(new URL(url).username);
  if (named) return named;
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ user: string }[]>`select current_user as "user"`;
    return row!.user;
  } finally {
    await sql.end();
  }
}
