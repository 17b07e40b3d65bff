import Type from 'typebox';
import { Cursor, Limit, Name, strict, Timestamp } from './common.ts';

export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Timestamp,
  actor: Type.String(),
  role: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()], {
    description: 'Release version the entry is about (deployments and releases), else null',
  }),
  deploymentId: Type.Union([Type.String(), Type.Null()], {
    description: 'Deployment the entry is about, else null',
  }),
});
export type AuditEntry = Type.Static<typeof AuditEntry>;

const filters = {
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  action: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[a-z][a-z0-9_.-]*$',
      description: 'Exact action, or a prefix ending in "." (e.g. "deployment.")',
    }),
  ),
  app: Type.Optional(Name),
  env: Type.Optional(Name),
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  hideSignIns: Type.Optional(
    Type.Boolean({ description: 'Leave out sign-in, sign-out and lockout entries (actions "auth.…")' }),
  ),
};

export const AuditQuery = Type.Object(
  { ...filters, cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  strict,
);
export type AuditQuery = Type.Static<typeof AuditQuery>;
export const AuditCsvQuery = Type.Object(filters, strict);
export type AuditCsvQuery = Type.Static<typeof AuditCsvQuery>;
