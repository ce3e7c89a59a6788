/**
 * Re-reads something on an interval for as long as the calling component
 * lives: `interval` is read reactively (a list polls faster while an
 * instance is pending), a tick is skipped while the previous read is still
 * out or the tab is hidden, and a hidden tab catches up as soon as it is shown.
 */
export function poll(read: () => Promise<unknown>, interval: () => number) {
  let inFlight = false;
  const tick = async () => {
    if (inFlight || document.hidden) return;
    inFlight = true;
    try {
      await read();
    } catch {
      // The next tick tries again; `read` shows its own failure if it wants to.
    } finally {
      inFlight = false;
    }
  };

  $effect(() => {
    const timer = setInterval(tick, interval());
    return () => clearInterval(timer);
  });

  $effect(() => {
    const onVisible = () => {
      if (!document.hidden) void tick();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  });
}
