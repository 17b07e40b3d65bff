// Which runtime driver runs an environment's instances: its `runtimeTarget` (PUT …/runtime). The
// one place the choice is made; each target adds its branch here.
import { KubernetesDriver, kubeConfigFrom, type PodTemplate, type RuntimeDriver } from '@qubot/runtime';
import { kubernetesSettingsOf } from '../views/runtime-target-view.ts';

/** The environment columns the choice is made from. */
export interface DriverEnvironment {
  runtimeTarget: string;
  kubernetes: unknown;
  application: { name: string; podTemplate: unknown };
}

export function createDriverFor(deps: { local: RuntimeDriver }) {
  /** One Kubernetes driver (and its pod watch) per namespace and credentials. */
  const kubernetes = new Map<string, KubernetesDriver>();
  /** Pod templates by application, as last read with an environment. */
  const templates = new Map<string, PodTemplate | null>();

  function driverFor(environment: DriverEnvironment): RuntimeDriver {
    if (environment.runtimeTarget === 'kubernetes') {
      const k = kubernetesSettingsOf(environment.kubernetes);
      if (!k) throw new Error('the kubernetes target has no namespace and credentials set');
      templates.set(
        environment.application.name,
        (environment.application.podTemplate as PodTemplate) ?? null,
      );
      const key = JSON.stringify(k);
      let driver = kubernetes.get(key);
      if (!driver) {
        driver = new KubernetesDriver({
          kubeConfig: kubeConfigFrom(k.credentials),
          namespace: k.namespace,
          podTemplate: (app) => templates.get(app) ?? null,
          ...(k.gateway ? { gateway: { name: k.gateway } } : {}),
        });
        kubernetes.set(key, driver);
      }
      return driver;
    }
    return deps.local;
  }

  return {
    driverFor,
    /** Stops every Kubernetes driver's watch (shutdown). */
    close() {
      for (const d of kubernetes.values()) d.close();
      kubernetes.clear();
    },
  };
}
export type DriverFor = ReturnType<typeof createDriverFor>['driverFor'];
