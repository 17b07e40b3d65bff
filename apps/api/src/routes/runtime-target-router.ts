import {
  AppParams,
  Environment,
  EnvParams,
  PodTemplateView,
  UpdatePodTemplateBody,
  UpdateRuntimeTargetBody,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

/** Where instances run (docs/kubernetes.md "The Kubernetes runtime"): admin settings. */
export default async function runtimeTargetRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { runtimeTargets } = app.services;
  app.put(
    '/apps/:app/environments/:env/runtime',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['environments'],
        summary:
          "Choose where an environment's instances run: local, or a Kubernetes namespace (admin; audited)",
        description:
          'Body `{ target, …target settings }`. `kubernetes` needs `namespace` and `credentials` (`{ "source": "in-cluster" }`: the worker pod\'s service account; `{ "source": "kubeconfig", "path", "context"? }`: a kubeconfig file on the worker machines — its contents are never read back or shown), and optionally `gateway`: the Gateway canary HTTPRoutes attach to (without it, canary weights are replica ratios; `runtime.kubernetes.canaryMode` says which). 409 while a deployment is in progress or keeps a colour warm there. A protected environment needs a reason.',
        params: EnvParams,
        body: UpdateRuntimeTargetBody,
        response: { 200: Environment, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      runtimeTargets.setTarget(request.ctx(), request.params.app, request.params.env, request.body),
  );
  app.put(
    '/apps/:app/pod-template',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['applications'],
        summary: "Register the application's pod template for the Kubernetes runtime (admin; audited)",
        description:
          "The Kubernetes runtime's launcher, as data: container port, readiness path, arguments (one word each, no shell), environment, service account, image pull secrets, grace period, Service port. The image is always the release's artifact. `null` removes it.",
        params: AppParams,
        body: UpdatePodTemplateBody,
        response: { 200: PodTemplateView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => runtimeTargets.setPodTemplate(request.ctx(), request.params.app, request.body),
  );
}
