import { Badge, createTheme, Modal, Notification } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'blue',
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  headings: { fontWeight: '650' },
  cursorType: 'pointer',
  components: {
    // Status badges sit in narrow table cells: never cut them to "ACT…".
    Badge: Badge.extend({
      styles: { root: { flexShrink: 0, overflow: 'visible', maxWidth: 'none' }, label: { overflow: 'visible' } },
    }),
    // Mantine's close buttons are a bare "×": give them a name for screen readers.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close notification' } } }),
  },
});
