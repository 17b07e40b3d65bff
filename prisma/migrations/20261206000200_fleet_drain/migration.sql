-- Draining a host moves its instances (docs/hosts.md "Draining a host"): a `drain` deployment kind.
ALTER TYPE "DeploymentKind" ADD VALUE 'drain';
