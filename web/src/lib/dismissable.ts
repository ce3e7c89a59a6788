/**
 * Closes a <details> menu on a click outside it, on Escape, and after a choice inside it. A button marked
 * `data-keep-open` acts inside the menu without closing it ("Mark all read" in the bell).
 */
export function dismissable(node: HTMLDetailsElement) {
  const close = () => node.removeAttribute("open");
  const onPointer = (event: PointerEvent) => {
    if (!node.contains(event.target as Node)) close();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === "Escape" && node.open) {
      close();
      node.querySelector("summary")?.focus();
    }
  };
  const onChoice = (event: MouseEvent) => {
    const target = event.target as HTMLElement;
    if (target.closest("a, button") && !target.closest("summary, [data-keep-open]")) close();
  };
  document.addEventListener("pointerdown", onPointer);
  document.addEventListener("keydown", onKey);
  node.addEventListener("click", onChoice);
  return {
    destroy() {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
      node.removeEventListener("click", onChoice);
    },
  };
}
