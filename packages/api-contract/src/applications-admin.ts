// Application administration (docs/security.md "Application administration"): registering an
// application with its launcher and pipeline (admin), and an environment's protection and scale.
import Type from 'typebox';
import { ActionReason, Name, strict, Timestamp } from './common.ts';
import { PlacementSetting } from './hosts.ts';

/** A single printable line: launchers and paths never carry control characters. */
const SingleLine = (max: number, description: string) =>
  Type.String({ minLength: 1, maxLength: max, pattern: '^[^\\x00-\\x1f\\x7f]+$', description });

export const Replicas = Type.Integer({ minimum: 1, maximum: 20, description: 'Instances per colour' });

export const NewEnvironment = Type.Object(
  {
    name: Name,
    protected: Type.Optional(
      Type.Boolean({ description: 'Deploying and controlling here need release-manager (default false)' }),
    ),
    requiresApproval: Type.Optional(
      Type.Boolean({ description: "Deployments wait for a second person's approval (default false)" }),
    ),
    replicas: Type.Optional(Replicas),
  },
  strict,
);
export type NewEnvironment = Type.Static<typeof NewEnvironment>;

export const CreateApplicationBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    launcher: SingleLine(
      2000,
      'Command template run for each instance; placeholders {version} {artifact} {port} {pool} {instanceId}',
    ),
    launcherCwd: Type.Optional(
      SingleLine(1000, 'Working directory of the launcher (relative to the workspace, or absolute)'),
    ),
    healthPath: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^/[A-Za-z0-9._~/?=&%-]*$',
        description: 'HTTP path probed for health (default /healthz)',
      }),
    ),
    smokePath: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^/[A-Za-z0-9._~/?=&%-]*$',
        description: "HTTP path a deployment's smoke check asks each new instance for (default /)",
      }),
    ),
    versionHeader: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
        description:
          'Response header in which the application names its version; when set, the smoke check fails an instance that answers with another version (Qubot-One: x-qubot-version). Default: none, no version check',
      }),
    ),
    environments: Type.Array(NewEnvironment, {
      minItems: 1,
      maxItems: 20,
      description: 'The pipeline, in order',
    }),
  },
  strict,
);
export type CreateApplicationBody = Type.Static<typeof CreateApplicationBody>;

export const EnvironmentSettings = Type.Object({
  name: Type.String(),
  position: Type.Integer(),
  protected: Type.Boolean(),
  requiresApproval: Type.Boolean(),
  replicas: Type.Integer(),
});
export type EnvironmentSettings = Type.Static<typeof EnvironmentSettings>;

/** What an admin configured: the launcher is shown here, never in the public application list. */
export const ApplicationConfig = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  launcher: Type.String(),
  launcherCwd: Type.Union([Type.String(), Type.Null()]),
  healthPath: Type.String(),
  // Optional only for older servers and hand-made fixtures: this API always sends them.
  smokePath: Type.Optional(Type.String()),
  versionHeader: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  environments: Type.Array(EnvironmentSettings),
  createdAt: Timestamp,
});
export type ApplicationConfig = Type.Static<typeof ApplicationConfig>;

export const UpdateEnvironmentSettingsBody = Type.Object(
  {
    protected: Type.Optional(Type.Boolean({ description: 'admin only' })),
    requiresApproval: Type.Optional(Type.Boolean({ description: 'admin only' })),
    replicas: Type.Optional(Replicas),
    analysisOnInconclusive: Type.Optional(
      Type.Union([Type.Literal('fail'), Type.Literal('wait'), Type.Null()], {
        description:
          'admin only: after its limit an inconclusive analysis fails (rolls back) or waits for a person; null follows protection',
      }),
    ),
    trafficProvider: Type.Optional(
      Type.Union([Type.Literal('node'), Type.Literal('haproxy')], {
        description:
          "admin only: what serves the environment's address — node (the embedded router) or haproxy (Debian's HAProxy 2.6, driven through its runtime API). On a live environment the new provider takes over the same port: the old router stops accepting connections and finishes its in-flight requests, the new one starts serving (a gap of well under a second in which new connections are refused). 409 while a deployment (or its rollback window) or another provider change is in progress; 503 when the new provider cannot start (the old one serves again)",
      }),
    ),
    placement: Type.Optional(PlacementSetting),
    reason: Type.Optional(ActionReason),
  },
  { ...strict, minProperties: 1 },
);
export type UpdateEnvironmentSettingsBody = Type.Static<typeof UpdateEnvironmentSettingsBody>;
