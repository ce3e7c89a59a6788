/**
 * `{@attach showModalWhile(() => open)}` on a `<dialog>`: shown as a modal
 * while `open` is true and closed otherwise. A native modal dialog traps
 * focus, closes on Escape, makes the page under it inert and gives focus back
 * when it closes, so the components built on it need none of that themselves.
 */
export const showModalWhile = (isOpen: () => boolean) => (dialog: HTMLDialogElement) => {
  const open = isOpen();
  if (open && !dialog.open) dialog.showModal();
  if (!open && dialog.open) dialog.close();
};
