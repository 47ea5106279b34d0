import { Button, Group, type GroupProps } from '@mantine/core';
import { ApiErrorAlert } from './ApiErrorAlert';
import { StaleVersionNotice } from './StaleVersionNotice';
import type { VersionedForm } from './useVersionedForm';

/** What a save of a versioned form answered: "changed meanwhile" (with Reload), and problems that fit no field. */
export function SaveProblems({
  editor,
  what,
  title,
}: {
  editor: VersionedForm<unknown>;
  /** "this tenant": who changed what. */
  what: string;
  /** The alert's title, like "The settings were not saved". */
  title: string;
}) {
  return (
    <>
      {editor.stale && (
        <StaleVersionNotice what={what} onReload={() => void editor.reload()} reloading={editor.reloading} />
      )}
      {editor.other.length > 0 && <ApiErrorAlert error={null} extra={editor.other} title={title} />}
    </>
  );
}

/** Discard and save the edits of a versioned form (the form's submit button). */
export function DiscardSaveButtons({
  editor,
  saving,
  saveLabel = 'Save changes',
  justify,
}: {
  editor: VersionedForm<unknown>;
  saving: boolean;
  saveLabel?: string;
  justify?: GroupProps['justify'];
}) {
  return (
    <Group justify={justify} gap="sm">
      <Button variant="default" disabled={!editor.dirty || saving} onClick={editor.discard}>
        Discard
      </Button>
      <Button type="submit" loading={saving} disabled={!editor.dirty}>
        {saveLabel}
      </Button>
    </Group>
  );
}
