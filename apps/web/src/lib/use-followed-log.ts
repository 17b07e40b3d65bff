import { useEffect, useState } from 'react';
import { errorMessage, toApiError } from './api-client';
import { appendLines, linesOf, splitNdjson } from './ndjson';

export type FollowedLog = {
  status: 'connecting' | 'live' | 'ended' | 'error';
  lines: string[];
  error?: string;
};

/**
 * Follows a log the server streams as NDJSON (`?follow=true`: instance logs, hook output): the
 * last lines, then new ones as they are written, until unmounted, the URL changes or the server
 * ends the stream. One open request, no polling. `url: null` opens nothing.
 */
export function useFollowedLog(url: string | null, maxLines: number): FollowedLog {
  const [state, setState] = useState<FollowedLog>({ status: 'connecting', lines: [] });
  useEffect(() => {
    if (!url) return;
    const ac = new AbortController();
    setState({ status: 'connecting', lines: [] });
    (async () => {
      const res = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/x-ndjson' },
        signal: ac.signal,
      });
      if (!res.ok) throw await toApiError(res);
      if (!res.body) throw new Error('The server sent no log stream.');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let rest = '';
      setState((s) => ({ ...s, status: 'live' }));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const split = splitNdjson(rest, decoder.decode(value, { stream: true }));
        rest = split.rest;
        const more = split.records.flatMap(linesOf);
        if (more.length) setState((s) => ({ ...s, lines: appendLines(s.lines, more, maxLines) }));
      }
      setState((s) => ({ ...s, status: 'ended' }));
    })().catch((error: unknown) => {
      if (ac.signal.aborted) return;
      setState((s) => ({ ...s, status: 'error', error: errorMessage(error) }));
    });
    return () => ac.abort();
  }, [url, maxLines]);
  return state;
}
