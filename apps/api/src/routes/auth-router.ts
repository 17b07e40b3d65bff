import {
  ChangePasswordBody,
  DemoUsers,
  ErrorEnvelope,
  LoginBody,
  LoginResult,
  Me,
  Ok,
  SignInOptions,
} from '@qubot/api-contract';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { serializeCookie } from '../lib/cookies.ts';
import { isCrossSite } from '../plugins/auth.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from '../services/auth-service.ts';
import { DEMO_USERS } from '../services/user-service.ts';
import { errorResponses, typed } from './route-kit.ts';

export interface AuthRouterOptions {
  /** Demo mode: /auth/demo-users lists the demo accounts. */
  demo?: boolean | undefined;
  /** Set the Secure flag on cookies even when the request arrived over plain HTTP (TLS ends at a proxy). */
  secureCookies?: boolean | undefined;
  /** Sign-in attempts per client address per window. */
  loginRateLimit?: { max: number; timeWindowMs: number } | undefined;
}

const errors = errorResponses(400, 401, 403);

export default async function authRouter(parent: FastifyInstance, opts: AuthRouterOptions) {
  const app = typed(parent);
  const { auth } = app.services;
  const secure = (request: FastifyRequest) => opts.secureCookies === true || request.protocol === 'https';
  const clearCookies = (request: FastifyRequest, reply: FastifyReply) => {
    const base = { path: '/', sameSite: 'strict' as const, secure: secure(request), clear: true };
    reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, '', { ...base, httpOnly: true }),
      serializeCookie(CSRF_COOKIE, '', { ...base, httpOnly: false }),
    ]);
  };
  const limit = opts.loginRateLimit ?? { max: 20, timeWindowMs: 60_000 };

  app.post(
    '/auth/login',
    {
      config: { public: true, rateLimit: { max: limit.max, timeWindow: limit.timeWindowMs } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in: sets the qubot_session (httpOnly) and qubot_csrf cookies',
        description:
          'Send the CSRF token back as the X-CSRF-Token header on every cookie-authenticated POST/PATCH/DELETE. ' +
          'Wrong credentials: 401 "invalid username or password". Repeated failures lock the account for a while (429).',
        body: LoginBody,
        response: { 200: LoginResult, ...errors, 429: ErrorEnvelope },
      },
    },
    async (request, reply) => {
      // Login CSRF: a foreign page must not sign the browser in as someone else.
      if (isCrossSite(request.headers))
        throw new AppError(ErrorCode.Forbidden, 'forbidden: cross-site request refused', {
          reason: 'cross_site',
        });
      const res = await auth.login(request.ctx(), request.body);
      const base = { path: '/', sameSite: 'strict' as const, secure: secure(request) };
      reply.header('set-cookie', [
        serializeCookie(SESSION_COOKIE, res.cookieValue, { ...base, httpOnly: true }),
        // Readable by the page's script so it can echo it in X-CSRF-Token (double submit, bound to the session).
        serializeCookie(CSRF_COOKIE, res.csrfToken, { ...base, httpOnly: false }),
      ]);
      return { ...res.me, csrfToken: res.csrfToken };
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Sign out: revokes the session and clears its cookies',
        response: { 200: Ok, ...errors },
      },
    },
    async (request, reply) => {
      await auth.logout(request.ctx(), request.credentials?.session?.id ?? null);
      clearCookies(request, reply);
      return { ok: true };
    },
  );

  app.get(
    '/auth/me',
    {
      onRequest: app.authenticate,
      schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: Me, ...errors } },
    },
    async (request) =>
      auth.me({ actor: request.actor, mustChangePassword: request.credentials?.mustChangePassword ?? false }),
  );

  app.post(
    '/auth/password',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password (ends your other sessions)',
        body: ChangePasswordBody,
        response: { 200: Me, ...errors },
      },
    },
    async (request) =>
      auth.changePassword(request.ctx(), request.credentials?.session?.id ?? null, request.body),
  );

  app.get(
    '/auth/options',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'What the sign-in page needs: whether this is demo mode, and then the demo accounts',
        response: { 200: SignInOptions },
      },
    },
    async (): Promise<SignInOptions> => ({
      demo: opts.demo === true,
      demoUsers: opts.demo ? DEMO_USERS.map((u) => ({ ...u })) : [],
    }),
  );

  app.get(
    '/auth/demo-users',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Demo mode only: the demo accounts, for the sign-in page (404 otherwise)',
        response: { 200: DemoUsers, 404: ErrorEnvelope },
      },
    },
    async () => {
      if (!opts.demo) throw AppError.notFound('demo users (the server is not in demo mode)');
      return { items: DEMO_USERS.map((u) => ({ ...u })), nextCursor: null };
    },
  );
}
