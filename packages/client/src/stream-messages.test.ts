import { describe, expect, it } from 'vitest';
import { eventsUrl, isGap, parseStreamMessage, subscribeMessage } from './stream-messages.ts';

describe('[CLIENT] parseStreamMessage', () => {
  it('reads event messages of the protocol', () => {
    expect(
      parseStreamMessage(
        '{"type":"event","seq":5,"prev":3,"event":"deployment.updated","topics":["deployment:d1","application:qubot-one"],"data":{"id":"d1"},"at":"2025-01-01T00:00:00.000Z"}',
      ),
    ).toEqual({
      kind: 'event',
      event: {
        seq: 5,
        prev: 3,
        event: 'deployment.updated',
        topics: ['deployment:d1', 'application:qubot-one'],
        data: { id: 'd1' },
      },
    });
  });
  it('keeps the seq of an event type it does not know, without its data', () => {
    expect(
      parseStreamMessage(
        '{"type":"event","seq":6,"prev":5,"event":"something.new","topics":[],"data":{"x":1},"at":"2025-01-01T00:00:00.000Z"}',
      ),
    ).toEqual({ kind: 'event', event: { seq: 6, prev: 5, event: null, topics: [], data: null } });
  });
  it('recognises control messages and ignores junk', () => {
    expect(parseStreamMessage('{"type":"heartbeat","seq":7}')).toEqual({ kind: 'heartbeat', seq: 7 });
    expect(parseStreamMessage('{"type":"subscribed","topics":[],"since":null,"lastSeq":40}')).toEqual({
      kind: 'subscribed',
      since: null,
      lastSeq: 40,
    });
    expect(parseStreamMessage('{"type":"error","code":"unknown_topic","message":"unknown topic x"}')).toEqual(
      {
        kind: 'error',
        code: 'unknown_topic',
        message: 'unknown topic x',
      },
    );
    expect(
      parseStreamMessage('{"type":"error","code":"forbidden","message":"no","field":"topics[0]"}'),
    ).toEqual({ kind: 'error', code: 'forbidden', message: 'no', field: 'topics[0]' });
    expect(parseStreamMessage('not json')).toEqual({ kind: 'other' });
    expect(parseStreamMessage('{"type":"event","seq":-1}')).toEqual({ kind: 'other' });
    expect(parseStreamMessage('{"type":"deployment.updated"}')).toEqual({ kind: 'other' });
  });
});

describe('[CLIENT] isGap', () => {
  it('is a gap only when the server says it sent something after our last seq', () => {
    expect(isGap(10, { prev: 10 })).toBe(false);
    expect(isGap(10, { prev: 4 })).toBe(false);
    expect(isGap(10, { prev: 12 })).toBe(true);
    expect(isGap(null, { prev: 12 })).toBe(false);
  });
});

describe('[CLIENT] subscribeMessage', () => {
  it('sends sorted unique topics and since only when known', () => {
    expect(JSON.parse(subscribeMessage(['b', 'a', 'b'], 7))).toEqual({
      type: 'subscribe',
      topics: ['a', 'b'],
      since: 7,
    });
    expect(JSON.parse(subscribeMessage(['a'], null))).toEqual({ type: 'subscribe', topics: ['a'] });
  });
});

describe('[CLIENT] eventsUrl', () => {
  it('follows the page scheme', () => {
    expect(eventsUrl({ protocol: 'https:', host: 'deploy.example' })).toBe(
      'wss://deploy.example/api/v1/events',
    );
    expect(eventsUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe(
      'ws://127.0.0.1:8080/api/v1/events',
    );
  });
  it('derives the address from a server URL, base path included', () => {
    expect(eventsUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/v1/events');
    expect(eventsUrl('https://deploy.example.com/qubot')).toBe(
      'wss://deploy.example.com/qubot/api/v1/events',
    );
  });
});
