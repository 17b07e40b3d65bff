import Type from 'typebox';
import { NullableTimestamp, Reason, strict, Timestamp } from './common.ts';

/**
 * Hosts: machines that run instances through their agent (`qubot agent`, docs/hosts.md), and the
 * one-time enrolment tokens an admin creates for them.
 */
const placement = (description: string) =>
  Type.Union([Type.Literal('local'), Type.Literal('hosts')], { description });
export const Placement = placement(
  "where the environment's new instances run: local (this machine, the default) or hosts (the enrolled hosts that are ready, through their agents; docs/hosts.md); an admin setting (PATCH …/settings)",
);
export type Placement = Type.Static<typeof Placement>;
export const PlacementSetting = placement(
  'admin only: where new instances run — local (this machine) or hosts (the enrolled hosts, docs/hosts.md). Instances already running stay where they are until the next deployment replaces them. 409 while a deployment is active',
);

export const EnrolmentTokenStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('used'),
  Type.Literal('expired'),
  Type.Literal('revoked'),
]);
export type EnrolmentTokenStatus = Type.Static<typeof EnrolmentTokenStatus>;

export const EnrolmentToken = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'the first characters of the secret, to recognise it' }),
    status: EnrolmentTokenStatus,
    createdBy: Type.String(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    usedAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
    host: Type.Union([Type.String(), Type.Null()], { description: 'the host that enrolled with it' }),
  },
  strict,
);
export type EnrolmentToken = Type.Static<typeof EnrolmentToken>;

export const CreateEnrolmentTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'what the token is for, e.g. the host' }),
    expiresInMinutes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_080, default: 60, description: 'default 60, at most 7 days' }),
    ),
  },
  strict,
);
export type CreateEnrolmentTokenBody = Type.Static<typeof CreateEnrolmentTokenBody>;

/** The creation answer: the secret, shown this once (only its SHA-256 is stored). */
export const CreatedEnrolmentToken = Type.Object({ token: EnrolmentToken, secret: Type.String() }, strict);
export type CreatedEnrolmentToken = Type.Static<typeof CreatedEnrolmentToken>;

export const HostState = Type.Union(
  [
    Type.Literal('ready'),
    Type.Literal('cordoned'),
    Type.Literal('draining'),
    Type.Literal('drained'),
    Type.Literal('disconnected'),
    Type.Literal('lost'),
    Type.Literal('revoked'),
  ],
  {
    description:
      'ready: connected, takes new instances; cordoned: takes no new instances; draining: takes none and its instances are being moved elsewhere (a `drain` deployment per environment); drained: draining with no instance left; disconnected: its agent is not connected (yet within the lost timeout); lost: no heartbeat for longer than the lost timeout, its instances are replaced elsewhere; revoked: its credential was revoked',
  },
);
export type HostState = Type.Static<typeof HostState>;

export const HostScheduling = Type.Union([
  Type.Literal('schedulable'),
  Type.Literal('cordoned'),
  Type.Literal('draining'),
]);
export type HostScheduling = Type.Static<typeof HostScheduling>;

export const Host = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    address: Type.String({ description: 'where its instances are reached (routing targets, probes)' }),
    state: HostState,
    scheduling: HostScheduling,
    connected: Type.Boolean(),
    capacity: Type.Integer({ description: 'instances placed here at most' }),
    instances: Type.Integer({ description: 'live instances placed here' }),
    agentVersion: Type.Union([Type.String(), Type.Null()]),
    cpuPercent: Type.Union([Type.Number(), Type.Null()], {
      description: 'CPU in use at the last heartbeat, percent of all cores',
    }),
    memoryUsedBytes: Type.Union([Type.Integer(), Type.Null()]),
    memoryTotalBytes: Type.Union([Type.Integer(), Type.Null()]),
    lastSeenAt: NullableTimestamp,
    lostAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
    enrolledAt: Timestamp,
  },
  strict,
);
export type Host = Type.Static<typeof Host>;

export const HostActionBody = Type.Object({ reason: Type.Optional(Reason) }, strict);
export type HostActionBody = Type.Static<typeof HostActionBody>;

export const HostAction = Type.Union(
  [Type.Literal('cordon'), Type.Literal('uncordon'), Type.Literal('drain'), Type.Literal('revoke')],
  {
    description:
      'cordon: no new instances; uncordon: schedulable again; drain: cordon and move its instances elsewhere; revoke: the agent credential stops working at once',
  },
);
export const HostActionParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), action: HostAction },
  strict,
);
export type HostActionParams = Type.Static<typeof HostActionParams>;

/** What `qubot agent --enrol TOKEN` sends: unauthenticated, the token is the credential. */
export const EnrolBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$',
      description: 'the host name, unique (lower-case letters, digits, dots and dashes)',
    }),
    address: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'IP address (or DNS name) where the control plane and the router reach its instances',
    }),
    capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 8 })),
    agentVersion: Type.String({ minLength: 1, maxLength: 50 }),
  },
  strict,
);
export type EnrolBody = Type.Static<typeof EnrolBody>;

export const Enrolled = Type.Object(
  {
    hostId: Type.String(),
    name: Type.String(),
    credential: Type.String({
      description: "the agent's own credential (Bearer), shown this once; an admin can revoke it",
    }),
  },
  strict,
);
export type Enrolled = Type.Static<typeof Enrolled>;
