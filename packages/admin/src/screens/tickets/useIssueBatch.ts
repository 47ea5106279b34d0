/**
 * The state of issuing a batch on a type's page: the keys as typed, the run (progress, results,
 * the refusal that stopped it), stopping, retrying the rest, and whether the links were saved.
 * It lives on the type's screen, not in its tab, so that changing tabs keeps the links on screen.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import type { IssueResult } from '../../api/types';
import { type BatchProgress, noCounts, runBatch } from './issueBatch';
import { ticketsKey, ticketTypeKey, ticketTypePath } from './queries';

export type OnDuplicate = 'skip' | 'reissue';

export interface IssueRun {
  keys: string[];
  onDuplicate: OnDuplicate;
  progress: BatchProgress;
  status: 'running' | 'done' | 'failed' | 'stopped';
  /** What stopped it (a chunk's refusal). */
  error: unknown;
  /** The results were downloaded since the last link arrived. */
  downloaded: boolean;
  /** A stop was asked for: it ends after the chunk on its way. */
  stopping: boolean;
}

export interface IssueBatch {
  text: string;
  setText: (text: string) => void;
  onDuplicate: OnDuplicate;
  setOnDuplicate: (value: OnDuplicate) => void;
  run: IssueRun | null;
  start: (keys: string[]) => void;
  stop: () => void;
  /** After a refusal or a stop: sends the keys not yet answered. */
  resume: () => void;
  markDownloaded: () => void;
  /** A new batch: the keys and the results go. */
  reset: () => void;
  /** Links are on screen and nowhere else (not downloaded yet), or a batch is on its way. */
  unsaved: boolean;
}

export function useIssueBatch(slug: string, typeId: string): IssueBatch {
  const api = useApi();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [onDuplicate, setOnDuplicate] = useState<OnDuplicate>('skip');
  const [run, setRun] = useState<IssueRun | null>(null);
  const stopRequested = useRef(false);

  // Leaving the page stops a batch after the chunk on its way (the admin was warned).
  useEffect(
    () => () => {
      stopRequested.current = true;
    },
    [],
  );

  const execute = useCallback(
    async (keys: string[], mode: OnDuplicate, resume?: BatchProgress) => {
      stopRequested.current = false;
      const progress = resume ?? { done: 0, total: keys.length, items: [], counts: noCounts() };
      setRun({ keys, onDuplicate: mode, progress, status: 'running', error: null, downloaded: false, stopping: false });
      const result = await runBatch(
        keys,
        (part) =>
          api.post<IssueResult>(ticketTypePath(slug, typeId, '/tickets'), { foreignKeys: part, onDuplicate: mode }),
        {
          resume,
          shouldStop: () => stopRequested.current,
          onProgress: (p) => setRun((r) => r && { ...r, progress: p, downloaded: false }),
        },
      );
      const { error, stopped, ...last } = result;
      setRun(
        (r) =>
          r && {
            ...r,
            progress: last,
            status: error ? 'failed' : stopped ? 'stopped' : 'done',
            error,
            stopping: false,
          },
      );
      void queryClient.invalidateQueries({ queryKey: ticketsKey(slug) });
      // A refusal may come of the type itself (disabled or deleted meanwhile): show it as it is now.
      if (error) void queryClient.invalidateQueries({ queryKey: ticketTypeKey(slug, typeId) });
    },
    [api, queryClient, slug, typeId],
  );

  const hasLinks = run?.progress.items.some((i) => i.url) ?? false;
  return {
    text,
    setText,
    onDuplicate,
    setOnDuplicate,
    run,
    start: (keys) => void execute(keys, onDuplicate),
    stop: () => {
      stopRequested.current = true;
      setRun((r) => r && { ...r, stopping: true });
    },
    resume: () => {
      if (run && run.status !== 'running') void execute(run.keys, run.onDuplicate, run.progress);
    },
    markDownloaded: () => setRun((r) => r && { ...r, downloaded: true }),
    reset: () => {
      setRun(null);
      setText('');
    },
    unsaved: run !== null && (run.status === 'running' || (hasLinks && !run.downloaded)),
  };
}
