import { Box, Group, Loader, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { Locale } from '../../../../server/src/i18n/locales';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { COLOR, isHttpUrl } from './settingsForm';

export interface BrandingDraft {
  displayName: string;
  logoUrl: string;
  primaryColor: string;
  loginMessage: string;
  /** The page's language (the form's default language); without it, the tenant's saved one. */
  locale?: Locale;
}

/** The preview request body: only values the server would accept (a half-typed colour is left out). */
export function previewBody(draft: BrandingDraft) {
  const branding: { logoUrl?: string | null; primaryColor?: string; loginMessage?: string | null } = {};
  const logo = draft.logoUrl.trim();
  branding.logoUrl = logo && isHttpUrl(logo) ? logo : null;
  if (COLOR.test(draft.primaryColor)) branding.primaryColor = draft.primaryColor;
  branding.loginMessage = draft.loginMessage.trim().slice(0, 1000) || null;
  const displayName = draft.displayName.trim().slice(0, 200);
  return { ...(displayName ? { displayName } : {}), branding, ...(draft.locale ? { locale: draft.locale } : {}) };
}

/**
 * The page without `autofocus`: in a sandbox without scripts the browser refuses it and logs an
 * error, and the preview must not take the focus from the field being edited anyway.
 */
export function withoutAutofocus(html: string): string {
  if (typeof DOMParser === 'undefined') return html;
  const doc = new DOMParser().parseFromString(html, 'text/html');
  for (const el of doc.querySelectorAll('[autofocus]')) el.removeAttribute('autofocus');
  return `<!doctype html>\n${doc.documentElement.outerHTML}`;
}

/**
 * The tenant's sign-in page as the server would render it with the branding being edited,
 * in a sandboxed iframe (no scripts, no same-origin access).
 */
export function BrandingPreview({ slug, draft }: { slug: string; draft: BrandingDraft }) {
  const api = useApi();
  const [body] = useDebouncedValue(JSON.stringify(previewBody(draft)), 400);
  const preview = useQuery<string, ApiError>({
    queryKey: ['tenant', slug, 'branding-preview', body],
    queryFn: ({ signal }) =>
      api
        .request<string>('POST', tenantPath(slug, '/branding-preview'), {
          body: JSON.parse(body),
          responseType: 'text',
          signal,
        })
        .then((res) => withoutAutofocus(res.data)),
    placeholderData: keepPreviousData,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <Box>
      <Group justify="space-between" mb={6}>
        <Text size="sm" fw={500}>
          Sign-in page preview
        </Text>
        {preview.isFetching && <Loader size="xs" aria-label="Updating preview" />}
      </Group>
      {preview.error && <ApiErrorAlert error={preview.error} title="No preview" />}
      <Box
        style={{
          border: '1px solid var(--mantine-color-gray-3)',
          borderRadius: 'var(--mantine-radius-md)',
          overflow: 'hidden',
          background: 'var(--mantine-color-gray-0)',
        }}
      >
        <iframe
          title="Preview of the tenant's sign-in page"
          sandbox=""
          srcDoc={preview.data ?? ''}
          style={{ width: '100%', height: 520, border: 0, display: 'block', background: 'white' }}
          referrerPolicy="no-referrer"
        />
      </Box>
    </Box>
  );
}
