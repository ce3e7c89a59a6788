import { toast } from "./toasts.svelte.ts";
import { describeError } from "./trpc.ts";

/**
 * The "Load more" of a list paged by cursor: the next cursor, whether a page is being read, and `load()`, which
 * reads the next page and hands it to `append`. A failure is a toast; the rows already shown stay. One of these per
 * paged list (the LoadMore component is its button).
 */
export class NextPages<P extends { nextCursor: string | null }> {
  cursor = $state<string | null>(null);
  loading = $state(false);

  constructor(
    private readonly read: (cursor: string) => Promise<P>,
    private readonly append: (page: P) => void,
  ) {}

  async load(): Promise<void> {
    const cursor = this.cursor;
    if (!cursor || this.loading) return;
    this.loading = true;
    try {
      const page = await this.read(cursor);
      this.append(page);
      this.cursor = page.nextCursor;
    } catch (error) {
      toast("error", describeError(error).message);
    } finally {
      this.loading = false;
    }
  }
}
