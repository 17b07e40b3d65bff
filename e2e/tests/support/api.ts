import type { APIRequestContext } from '@playwright/test';
import { ApiError, createHttpClient, type HttpClient, type Method } from '@qubot/client';

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

/** Sends one request; a refusal comes back as its status and error envelope instead of an ApiError. */
export async function answer(
  http: HttpClient,
  method: Method,
  path: string,
  body?: unknown,
): Promise<Answer> {
  try {
    const res = await http.request(method, path, body === undefined ? {} : { body });
    return answerOf(res.status, res.data);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 0) throw err;
    return answerOf(err.status, {
      error: { code: err.code, message: err.message, details: err.details ?? null },
      requestId: err.requestId,
    });
  }
}
