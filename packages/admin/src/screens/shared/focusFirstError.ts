/**
 * After a form is refused (by its own checks or by the API), bring the first field in error into
 * view and focus it: in a tall modal the message beside a field may otherwise be off screen.
 * Mantine marks fields in error with `aria-invalid="true"`; the errors render on the next frame.
 */
export function focusFirstError(root: ParentNode = document): void {
  requestAnimationFrame(() => {
    setTimeout(() => {
      const el = root.querySelector<HTMLElement>('[aria-invalid="true"]');
      if (!el) return;
      el.scrollIntoView({ block: 'center', behavior: 'smooth' });
      if (typeof el.focus === 'function') el.focus({ preventScroll: true });
    }, 0);
  });
}
