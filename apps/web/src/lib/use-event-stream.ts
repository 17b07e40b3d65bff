import type { MetricsMessage } from '@qubot/api-contract';
import { eventsUrl } from '@qubot/client';
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useApplications } from '../hooks/api/applications/queries';
import { createEventStream, type EventStream } from './events';
import { liveStatus } from './live-status';

const streams = new WeakMap<QueryClient, EventStream>();

function streamFor(queryClient: QueryClient): EventStream {
  let stream = streams.get(queryClient);
  if (!stream) {
    stream = createEventStream({
      queryClient,
      url: eventsUrl(window.location),
      onStatus: (status) => liveStatus.set(status),
    });
    streams.set(queryClient, stream);
  }
  return stream;
}

/** Mounted once by the layout: keeps the socket open and subscribed to every application. */
export function useEventStream(): void {
  const queryClient = useQueryClient();
  const apps = useApplications();
  const topics = (apps.data?.items ?? []).map((a) => `application:${a.id}`).join(',');

  useEffect(() => {
    const stream = streamFor(queryClient);
    stream.start();
    return () => stream.stop();
  }, [queryClient]);

  useEffect(() => {
    if (!topics) return;
    return streamFor(queryClient).addTopics(topics.split(','));
  }, [queryClient, topics]);
}

/** A detail page asks for its deployment's events explicitly, in case it is another application's. */
export function useDeploymentSubscription(id: string | undefined): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!id) return;
    return streamFor(queryClient).addTopics([`deployment:${id}`]);
  }, [queryClient, id]);
}

/** The Hosts page watches the fleet (`hosts`, admins): `host.updated` events patch its list. */
export function useHostsSubscription(): void {
  const queryClient = useQueryClient();
  useEffect(() => streamFor(queryClient).addTopics(['hosts']), [queryClient]);
}

/** The environment page watches its environment's topic: router samples are only sent there. */
export function useEnvironmentSubscription(app: string | undefined, env: string | undefined): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!app || !env) return;
    return streamFor(queryClient).addTopics([`environment:${app}/${env}`]);
  }, [queryClient, app, env]);
}

/** Calls `handler` with every router sample the stream receives while mounted. */
export function useMetricsMessages(handler: (message: MetricsMessage) => void): void {
  const queryClient = useQueryClient();
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => streamFor(queryClient).onMetrics((m) => latest.current(m)), [queryClient]);
}
