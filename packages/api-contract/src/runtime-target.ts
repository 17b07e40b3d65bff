import Type from 'typebox';
import { ActionReason, Name, strict } from './common.ts';

/** Where an environment's instances run (DESIGN §4): this machine, or a Kubernetes namespace. */
export const RuntimeTargetName = Type.Union([Type.Literal('local'), Type.Literal('kubernetes')], {
  description:
    "local: processes on the worker's machine (the default); kubernetes: pods in a namespace of a cluster",
});
export type RuntimeTargetName = Type.Static<typeof RuntimeTargetName>;

/** Where the cluster credentials are — never the credentials themselves. */
export const KubernetesCredentials = Type.Union(
  [
    Type.Object({ source: Type.Literal('in-cluster') }, strict),
    Type.Object(
      {
        source: Type.Literal('kubeconfig'),
        path: Type.String({
          minLength: 2,
          maxLength: 1000,
          pattern: '^/[^\\n\\r\\u0000]*$',
          description:
            'absolute path of a kubeconfig file on the worker machines (its contents are never read back)',
        }),
        context: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\n\\r]+$' })),
      },
      strict,
    ),
  ],
  {
    description:
      "in-cluster: the worker pod's service account; kubeconfig: a kubeconfig file at a path on the worker machines",
  },
);
export type KubernetesCredentials = Type.Static<typeof KubernetesCredentials>;

export const UpdateRuntimeTargetBody = Type.Object(
  {
    target: RuntimeTargetName,
    namespace: Type.Optional(Name),
    credentials: Type.Optional(KubernetesCredentials),
    gateway: Type.Optional(
      Type.Union([Name, Type.Null()], {
        description:
          'kubernetes: the Gateway (same namespace) canary HTTPRoutes attach to; null or absent: canary by replica ratio',
      }),
    ),
    reason: Type.Optional(ActionReason),
  },
  strict,
);
export type UpdateRuntimeTargetBody = Type.Static<typeof UpdateRuntimeTargetBody>;

export const RuntimeTargetView = Type.Object(
  {
    target: RuntimeTargetName,
    kubernetes: Type.Union([
      Type.Object({
        namespace: Type.String(),
        credentials: KubernetesCredentials,
        gateway: Type.Union([Type.String(), Type.Null()]),
        canaryMode: Type.Union([Type.Literal('gateway-api'), Type.Literal('replica-ratio')], {
          description:
            'how canary weights reach the cluster: HTTPRoute backendRefs weights (gateway-api) or the share of ready pods of each colour behind the stable Service (replica-ratio, approximate: a weight is rounded to whole pods)',
        }),
      }),
      Type.Null(),
    ]),
  },
  { description: 'where instances run; an admin setting (PUT …/runtime)' },
);
export type RuntimeTargetView = Type.Static<typeof RuntimeTargetView>;

/** The Kubernetes runtime's launcher: data an admin registers per application, never a command line. */
export const PodTemplateBody = Type.Object(
  {
    containerPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    healthPath: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^/[^\\s]*$' })),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: 1000, pattern: '^[^\\n\\r]*$' }), {
        maxItems: 50,
        description: 'container arguments, one word each, passed as they are (no shell, no placeholders)',
      }),
    ),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 4000 })),
    ),
    serviceAccountName: Type.Optional(Name),
    imagePullSecrets: Type.Optional(Type.Array(Name, { maxItems: 10 })),
    terminationGracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    servicePort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  strict,
);
export type PodTemplateBody = Type.Static<typeof PodTemplateBody>;

export const UpdatePodTemplateBody = Type.Object(
  { podTemplate: Type.Union([PodTemplateBody, Type.Null()]), reason: Type.Optional(ActionReason) },
  strict,
);
export type UpdatePodTemplateBody = Type.Static<typeof UpdatePodTemplateBody>;

export const PodTemplateView = Type.Object({
  application: Type.String(),
  podTemplate: Type.Union([PodTemplateBody, Type.Null()]),
});
export type PodTemplateView = Type.Static<typeof PodTemplateView>;
