export type ToastKind = "success" | "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

let nextId = 0;

/** Notices that are about no one field: rendered once, by the root layout. */
export const toasts: Toast[] = $state([]);

export function toast(kind: ToastKind, message: string, timeoutMs = kind === "error" ? 8_000 : 4_000) {
  const id = ++nextId;
  toasts.push({ id, kind, message });
  setTimeout(() => dismissToast(id), timeoutMs);
}

export function dismissToast(id: number) {
  const index = toasts.findIndex((item) => item.id === id);
  if (index >= 0) toasts.splice(index, 1);
}
