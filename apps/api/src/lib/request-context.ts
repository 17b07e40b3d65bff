import type { FastifyRequest } from 'fastify';

export type RoleName = 'viewer' | 'deployer' | 'release-manager' | 'admin';

/** Who is acting: a signed-in user, an API token, or the system itself. */
export interface Actor {
  name: string;
  role: RoleName;
  kind: 'user' | 'token' | 'system' | 'anonymous';
  userId?: string;
  /** The person acting: the signed-in user, or for a token the user who created it (two-person rule). */
  personId?: string;
  /** For tokens: application names the token is limited to (empty = all). */
  applications?: string[];
}

/** What authenticating a request yields. */
export interface Credentials {
  actor: Actor;
  /** Present for cookie sessions: the session row id and its CSRF token. */
  session: { id: string; csrfToken: string } | null;
  mustChangePassword: boolean;
  /** Epoch ms after which these credentials must be looked up again (expiry); none = no expiry. */
  validUntil?: number;
}

/** What a service needs to know about the request: the actor and what goes into audit entries. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  clientIp: string | null;
  userAgent: string | null;
  auditFields(): {
    actor: string;
    role: string;
    requestId: string;
    clientIp: string | null;
    userAgent: string | null;
  };
}

export const SYSTEM_ACTOR: Actor = { name: 'system', role: 'admin', kind: 'system' };

export function contextFrom(request: FastifyRequest, actor: Actor): RequestContext {
  const ctx: RequestContext = {
    actor,
    requestId: String(request.id),
    clientIp: request.ip ?? null,
    userAgent: (request.headers['user-agent'] as string | undefined)?.slice(0, 500) ?? null,
    auditFields: () => ({
      actor: actor.name,
      role: actor.role,
      requestId: ctx.requestId,
      clientIp: ctx.clientIp,
      userAgent: ctx.userAgent,
    }),
  };
  return ctx;
}
