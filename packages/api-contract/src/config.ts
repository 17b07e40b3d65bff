import Type from 'typebox';
import { Name, NullableTimestamp, strict, Timestamp } from './common.ts';

/** What every secret value looks like on output; sending it back keeps the stored secret. */
export const SECRET_MASK = '••••••';
export const CONFIG_KEY_PATTERN = '^[A-Z][A-Z0-9_]{0,63}$';
export const MAX_CONFIG_ENTRIES = 500;

export const ConfigEntry = Type.Object({
  key: Type.String(),
  value: Type.String({ description: `Secrets are always "${SECRET_MASK}"` }),
  secret: Type.Boolean(),
});
export type ConfigEntry = Type.Static<typeof ConfigEntry>;

/** One version of an environment's configuration. Version 0 means nothing was ever set. */
export const ConfigVersion = Type.Object({
  version: Type.Integer({ minimum: 0 }),
  entries: Type.Array(ConfigEntry, { description: 'Sorted by key' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: NullableTimestamp,
  comment: Type.Union([Type.String(), Type.Null()]),
});
export type ConfigVersion = Type.Static<typeof ConfigVersion>;

export const ConfigEntryInput = Type.Object(
  {
    key: Type.String({ pattern: CONFIG_KEY_PATTERN, description: 'Upper-case letters, digits and _' }),
    value: Type.Optional(
      Type.String({
        maxLength: 10_000,
        description: `For a secret: omit it or send "${SECRET_MASK}" to keep the stored value`,
      }),
    ),
    secret: Type.Optional(Type.Boolean({ description: 'Default: what the key was before, else false' })),
  },
  strict,
);
export type ConfigEntryInput = Type.Static<typeof ConfigEntryInput>;

export const PutConfigBody = Type.Object(
  {
    entries: Type.Array(ConfigEntryInput, { maxItems: MAX_CONFIG_ENTRIES }),
    comment: Type.Optional(Type.String({ maxLength: 1000 })),
    baseVersion: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'The version this edit started from: 409 when another change came first',
      }),
    ),
  },
  strict,
);
export type PutConfigBody = Type.Static<typeof PutConfigBody>;

export const ConfigVersionParams = Type.Object(
  { app: Name, env: Name, version: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }) },
  strict,
);

const VersionNumber = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
export const ConfigVersionDiffQuery = Type.Object({ from: VersionNumber, to: VersionNumber }, strict);
export type ConfigVersionDiffQuery = Type.Static<typeof ConfigVersionDiffQuery>;
export const ConfigEnvironmentDiffQuery = Type.Object({ from: Name, to: Name }, strict);
export type ConfigEnvironmentDiffQuery = Type.Static<typeof ConfigEnvironmentDiffQuery>;

export const ConfigDiffSide = Type.Object({ environment: Type.String(), version: Type.Integer() });

export const ConfigDiffEntry = Type.Object({
  key: Type.String(),
  /** null when the key is absent on that side. Secrets are masked. */
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  secret: Type.Boolean({ description: 'Secret on either side' }),
  changed: Type.Boolean(),
});
export type ConfigDiffEntry = Type.Static<typeof ConfigDiffEntry>;

export const ConfigDiff = Type.Object({
  from: ConfigDiffSide,
  to: ConfigDiffSide,
  added: Type.Array(ConfigDiffEntry),
  removed: Type.Array(ConfigDiffEntry),
  changed: Type.Array(ConfigDiffEntry),
  notCompared: Type.Array(ConfigDiffEntry, {
    description:
      'Secret on both sides, values not compared: the caller may not read these secrets, so the diff tells nothing about their equality (changed: false here means "unknown")',
  }),
  unchanged: Type.Integer({
    description:
      'How many keys are the same on both sides (secrets: only when compared, or the same stored secret)',
  }),
});
export type ConfigDiff = Type.Static<typeof ConfigDiff>;

export const PromotionPreview = Type.Object({
  from: Type.Object({ environment: Type.String(), version: Type.Union([Type.String(), Type.Null()]) }),
  to: Type.Object({ environment: Type.String(), version: Type.Union([Type.String(), Type.Null()]) }),
  releases: Type.Array(
    Type.Object({
      version: Type.String(),
      changelog: Type.Union([Type.String(), Type.Null()]),
      createdAt: Timestamp,
    }),
    { description: "Registered after the target's live release, up to the source's; newest first" },
  ),
  config: ConfigDiff,
  allowed: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  verification: Type.Union(
    [
      Type.Object({
        environment: Type.String({ description: 'The previous environment' }),
        version: Type.String(),
        result: Type.Union(
          [
            Type.Literal('none'),
            Type.Literal('succeeded'),
            Type.Literal('failed'),
            Type.Literal('rolled_back'),
            Type.Literal('aborted'),
          ],
          {
            description:
              "The release's latest result there: rolled_back also when a later rollback moved that environment away from it",
          },
        ),
        deploymentId: Type.Union([Type.String(), Type.Null()]),
        finishedAt: Type.Union([Timestamp, Type.Null()]),
        blocking: Type.Boolean({
          description:
            'True when the target is protected and the latest result is a failure: promoting is refused without an admin override (verification gate)',
        }),
        message: Type.Union([Type.String(), Type.Null()], {
          description: 'A sentence to warn with; null when the latest result is a success',
        }),
      }),
      Type.Null(),
    ],
    {
      description:
        'How the release that would ship did in the previous environment (verification-gated promotion); null when nothing is live there',
    },
  ),
});
export type PromotionPreview = Type.Static<typeof PromotionPreview>;
