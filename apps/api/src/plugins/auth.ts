import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { readCookie } from '../lib/cookies.ts';
import { type CredentialCache, createCredentialCache } from '../lib/credential-cache.ts';
import { safeEqual } from '../lib/password.ts';
import { canReadApplication } from '../lib/permissions.ts';
import { type Actor, type Credentials, contextFrom, type RequestContext } from '../lib/request-context.ts';
import { SESSION_COOKIE } from '../services/auth-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    /** Set by app.authenticate; null on public routes. */
    credentials: Credentials | null;
    ctx(): RequestContext;
  }
  interface FastifyInstance {
    /** Route-level onRequest hook: 401 without a valid session or token; CSRF for cookie mutations. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** For websocket upgrades and other raw requests: the caller, or null. */
    authenticateRaw(headers: IncomingHttpHeaders): Promise<Actor | null>;
    /** Every route registered after this plugin, with whether it authenticates (for the authorization tests). */
    routeCatalog: RouteEntry[];
    /** Resolved credentials kept briefly (lib/credential-cache.ts); app.ts wires its invalidation. */
    credentialCache: CredentialCache;
  }
  interface FastifyContextConfig {
    /** Route needs no credentials (login, demo users). Every other /api/v1 route authenticates. */
    public?: boolean;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
  schema: Record<string, unknown> | undefined;
  websocket: boolean;
}

export const ANONYMOUS: Actor = { name: 'anonymous', role: 'viewer', kind: 'anonymous' };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Routes a user who must change their password can still use. */
const BEFORE_PASSWORD_CHANGE = new Set(['/api/v1/auth/me', '/api/v1/auth/password', '/api/v1/auth/logout']);

/** True when the browser tells us the request comes from another site. */
export function isCrossSite(headers: IncomingHttpHeaders): boolean {
  if (headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  if (origin === 'null') return true;
  try {
    // Browsers omit default ports in Origin; some clients keep them in Host.
    const norm = (h: string) => h.toLowerCase().replace(/:(80|443)$/, '');
    return norm(new URL(origin).host) !== norm(headers.host ?? '');
  } catch {
    return true;
  }
}

function deny(reason: string, message: string): AppError {
  return new AppError(ErrorCode.Forbidden, message, { reason });
}

const RESOLVED_ACTOR = Symbol('qubot.actor');

/** Resolves the caller of /api/v1 requests into `request.actor` (DESIGN §7). */
export default fp(
  async (app: FastifyInstance) => {
    const { auth } = app.services;
    // Anonymous until authentication says otherwise — a getter on the prototype, not an onRequest
    // hook: a hook is a step of every request's chain (bench/README.md, "The read path").
    app.decorateRequest('actor', {
      getter(this: FastifyRequest & { [RESOLVED_ACTOR]?: Actor }) {
        return this[RESOLVED_ACTOR] ?? ANONYMOUS;
      },
      setter(this: FastifyRequest & { [RESOLVED_ACTOR]?: Actor }, actor: Actor) {
        this[RESOLVED_ACTOR] = actor;
      },
    } as unknown as Actor);
    app.decorateRequest('credentials', null);
    app.decorateRequest('ctx', function (this: FastifyRequest) {
      return contextFrom(this, this.actor);
    });

    const credentialCache = createCredentialCache();
    app.decorate('credentialCache', credentialCache);

    const cacheKey = (authorization: string | undefined, sessionCookie: string | undefined) =>
      `${authorization ?? ''}\n${sessionCookie ?? ''}`;

    /** The caller of `request`, whose session cookie (if any) the caller has read already. */
    async function resolveAndAdmit(
      request: FastifyRequest,
      sessionCookie: string | undefined,
    ): Promise<void> {
      const authorization = request.headers.authorization;
      const creds = await credentialCache.resolve(cacheKey(authorization, sessionCookie), () =>
        auth.resolve({ authorization, sessionCookie }),
      );
      admit(request, creds);
    }

    function authenticate(request: FastifyRequest): Promise<void> {
      return resolveAndAdmit(request, readCookie(request.headers.cookie, SESSION_COOKIE));
    }

    /** The checks on resolved credentials; throws the 401/403. */
    function admit(request: FastifyRequest, creds: Credentials | null): void {
      if (!creds)
        throw new AppError(ErrorCode.Unauthenticated, 'sign in first: no valid session or API token');
      if (creds.session) {
        // Cookies ride along on cross-site requests; tokens never do, so only sessions need this.
        const upgrade = request.headers.upgrade !== undefined;
        if (!SAFE_METHODS.has(request.method) || upgrade) {
          if (isCrossSite(request.headers)) throw deny('cross_site', 'forbidden: cross-site request refused');
        }
        if (!SAFE_METHODS.has(request.method)) {
          const sent = request.headers['x-csrf-token'];
          if (typeof sent !== 'string' || !safeEqual(sent, creds.session.csrfToken))
            throw deny('csrf', 'forbidden: missing or invalid X-CSRF-Token header');
        }
        if (creds.mustChangePassword && !BEFORE_PASSWORD_CHANGE.has(request.routeOptions.url ?? ''))
          throw deny(
            'password_change_required',
            'forbidden: change your password first (POST /api/v1/auth/password)',
          );
      }
      request.actor = creds.actor;
      request.credentials = creds;
      // Application-scoped tokens see nothing of other applications, whatever the route.
      const appName = (request.params as { app?: unknown } | undefined)?.app;
      if (typeof appName === 'string' && !canReadApplication(creds.actor, appName))
        throw deny(
          'application_scope',
          `forbidden: this token is limited to ${(creds.actor.applications ?? []).join(', ')}, not ${appName}`,
        );
    }
    app.decorate('authenticate', authenticate as FastifyInstance['authenticate']);

    // The hook routes run: kept credentials are checked in the same tick (callback style, no
    // promise), others are looked up as `authenticate` does.
    function authenticateHook(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
      // The Cookie header is read once: the credentials looked up are those resolved on a miss.
      const sessionCookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      const kept = credentialCache.kept(cacheKey(request.headers.authorization, sessionCookie));
      if (!kept) {
        resolveAndAdmit(request, sessionCookie).then(() => done(), done);
        return;
      }
      try {
        admit(request, kept);
      } catch (err) {
        done(err as Error);
        return;
      }
      done();
    }

    app.decorate('authenticateRaw', async (headers: IncomingHttpHeaders) => {
      const creds = await auth.resolve({
        authorization: typeof headers.authorization === 'string' ? headers.authorization : undefined,
        sessionCookie: readCookie(headers.cookie, SESSION_COOKIE),
      });
      if (!creds) return null;
      // Cross-site websocket hijacking: a cookie-authenticated upgrade must come from our own pages.
      if (creds.session && isCrossSite(headers)) return null;
      if (creds.mustChangePassword) return null;
      return creds.actor;
    });

    // Secure by default: an /api/v1 route that forgot `onRequest: app.authenticate`
    // still authenticates; only `config: { public: true }` opts out.
    const catalog: RouteEntry[] = [];
    app.decorate('routeCatalog', catalog);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat())
        catalog.push({
          method,
          url: route.url,
          public: route.config?.public === true || !route.url.startsWith('/api/v1'),
          schema: route.schema as Record<string, unknown> | undefined,
          websocket: (route as { websocket?: boolean }).websocket === true,
        });
      if (!route.url.startsWith('/api/v1') || route.config?.public) return;
      const hooks = (route.onRequest ? [route.onRequest].flat() : []).filter(
        (h) => h !== (authenticate as never),
      );
      route.onRequest = [authenticateHook as never, ...hooks];
    });
  },
  { name: 'auth', dependencies: ['services'] },
);
