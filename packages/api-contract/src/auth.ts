import Type from 'typebox';
import { Name, NullableTimestamp, strict, Timestamp } from './common.ts';

export const RoleName = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('deployer'),
  Type.Literal('release-manager'),
  Type.Literal('admin'),
]);
export type RoleName = Type.Static<typeof RoleName>;

export const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Letters, digits, dot, dash, underscore (stored lower-case)',
});
/** Length checks beyond 200 are refused before hashing (argon2 cost). */
export const Password = Type.String({ minLength: 1, maxLength: 200 });
export const NewPassword = Type.String({
  minLength: 12,
  maxLength: 200,
  description: 'At least 12 characters',
});

export const LoginBody = Type.Object({ username: Username, password: Password }, strict);
export type LoginBody = Type.Static<typeof LoginBody>;

export const Me = Type.Object({
  username: Type.String(),
  role: RoleName,
  mustChangePassword: Type.Boolean(),
  kind: Type.Union([Type.Literal('user'), Type.Literal('token')]),
  applications: Type.Optional(
    Type.Array(Type.String(), { description: 'Tokens only: applications it is limited to' }),
  ),
});
export type Me = Type.Static<typeof Me>;

export const LoginResult = Type.Object({ ...Me.properties, csrfToken: Type.String() });
export type LoginResult = Type.Static<typeof LoginResult>;

export const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: NewPassword },
  strict,
);
export type ChangePasswordBody = Type.Static<typeof ChangePasswordBody>;

export const Ok = Type.Object({ ok: Type.Boolean() });
export type Ok = Type.Static<typeof Ok>;

export const DemoUsers = Type.Object({
  items: Type.Array(Type.Object({ username: Type.String(), password: Type.String(), role: RoleName })),
  nextCursor: Type.Null(),
});
export type DemoUsers = Type.Static<typeof DemoUsers>;

export const SignInOptions = Type.Object({
  demo: Type.Boolean({ description: 'Whether the server runs in demo mode' }),
  demoUsers: Type.Array(Type.Object({ username: Type.String(), password: Type.String(), role: RoleName }), {
    description: 'Demo mode only (empty otherwise): the demo accounts the sign-in page lists',
  }),
});
export type SignInOptions = Type.Static<typeof SignInOptions>;

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  role: RoleName,
  disabled: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  lockedUntil: NullableTimestamp,
  createdAt: Timestamp,
});
export type User = Type.Static<typeof User>;

export const UserWithPassword = Type.Object({
  user: User,
  oneTimePassword: Type.Union([Type.String(), Type.Null()], {
    description: 'Shown once; must be changed at first sign-in',
  }),
});
export type UserWithPassword = Type.Static<typeof UserWithPassword>;

export const CreateUserBody = Type.Object(
  {
    username: Username,
    role: RoleName,
    password: Type.Optional(NewPassword),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  strict,
);
export type CreateUserBody = Type.Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    role: Type.Optional(RoleName),
    disabled: Type.Optional(Type.Boolean()),
    displayName: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
    resetPassword: Type.Optional(Type.Boolean({ description: 'Generate a new one-time password' })),
    unlock: Type.Optional(Type.Boolean({ description: 'Clear a sign-in lockout' })),
  },
  { ...strict, minProperties: 1 },
);
export type UpdateUserBody = Type.Static<typeof UpdateUserBody>;

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'First characters of the secret, to recognise it' }),
  role: RoleName,
  applications: Type.Array(Type.String(), { description: 'Empty: every application' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  expiresAt: NullableTimestamp,
  revokedAt: NullableTimestamp,
  lastUsedAt: NullableTimestamp,
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
});
export type ApiToken = Type.Static<typeof ApiToken>;

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$' }),
    role: RoleName,
    applications: Type.Optional(Type.Array(Name, { maxItems: 100 })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  strict,
);
export type CreateTokenBody = Type.Static<typeof CreateTokenBody>;

export const CreatedToken = Type.Object({
  token: ApiToken,
  secret: Type.String({ description: 'Send as "Authorization: Bearer <secret>". Shown once.' }),
});
export type CreatedToken = Type.Static<typeof CreatedToken>;

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
export const Recurrence = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), {
      minItems: 1,
      maxItems: 7,
      description: '0 = Sunday … 6 = Saturday',
    }),
    start: HHMM,
    end: HHMM,
    timezone: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$', default: 'UTC' }),
  },
  strict,
);

export const FreezeWindow = Type.Object({
  id: Type.String(),
  reason: Type.String(),
  startsAt: NullableTimestamp,
  endsAt: NullableTimestamp,
  recurrence: Type.Union([
    Type.Object({
      days: Type.Array(Type.Integer()),
      start: Type.String(),
      end: Type.String(),
      timezone: Type.String(),
    }),
    Type.Null(),
  ]),
  createdBy: Type.String(),
  createdAt: Timestamp,
  active: Type.Boolean({ description: 'In force right now' }),
});
export type FreezeWindow = Type.Static<typeof FreezeWindow>;

export const CreateFreezeWindowBody = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    recurrence: Type.Optional(Recurrence),
  },
  strict,
);
export type CreateFreezeWindowBody = Type.Static<typeof CreateFreezeWindowBody>;
