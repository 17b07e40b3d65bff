import type { APIRequestContext } from '@playwright/test';
import {
  type Api,
  ApiError,
  type ApiResponse,
  type CallArgs,
  createHttpClient,
  type HttpClient,
  type JsonRouteKey,
  type Method,
} from '@qubot/client';

/**
 * @qubot/client's HTTP client over a Playwright request context: the requests go out with the
 * context's cookies, and a sign-in's cookies land in it (so the browser page shares the session).
 */
export function contextHttp(request: APIRequestContext, csrf = ''): HttpClient {
  return createHttpClient({
    csrfToken: () => csrf,
    async fetch(input, init) {
      const res = await request.fetch(String(input), {
        method: init?.method ?? 'GET',
        headers: init?.headers as Record<string, string>,
        ...(typeof init?.body === 'string' ? { data: init.body } : {}),
        failOnStatusCode: false,
      });
      const empty = res.status() === 204 || res.status() === 304;
      return new Response(empty ? null : new Uint8Array(await res.body()), {
        status: res.status(),
        statusText: res.statusText(),
        headers: res.headersArray().map((h): [string, string] => [h.name, h.value]),
      });
    },
  });
}

/** An answer whatever its status (specs that assert a refusal read its envelope). */
export interface Answer {
  status(): number;
  // biome-ignore lint/suspicious/noExplicitAny: as Playwright's APIResponse.json(), which the specs used before
  json(): Promise<any>;
  text(): Promise<string>;
}

const answerOf = (status: number, body: unknown): Answer => ({
  status: () => status,
  json: async () => body,
  text: async () => JSON.stringify(body ?? null),
});

/** A typed call whose refusal comes back as its status and error envelope instead of an ApiError. */
export function answerTo<K extends JsonRouteKey>(api: Api, route: K, ...args: CallArgs<K>): Promise<Answer> {
  return settled(api.respond(route, ...args));
}

/**
 * The same for any method and path, typed or not: for the specs that send what the route table
 * would refuse to type (a wrong body, a forged request) to check the server's refusal.
 */
export function answer(http: HttpClient, method: Method, path: string, body?: unknown): Promise<Answer> {
  return settled(http.request(method, path, body === undefined ? {} : { body }));
}

async function settled(request: Promise<ApiResponse<unknown>>): Promise<Answer> {
  try {
    const res = await request;
    return answerOf(res.status, res.data);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 0) throw err;
    return answerOf(err.status, {
      error: { code: err.code, message: err.message, details: err.details ?? null },
      requestId: err.requestId,
    });
  }
}
