import type { Command } from '../command.ts';
import { agent } from './agent.ts';
import { login, logout, tokenSet, whoami } from './auth.ts';
import { BACKUP_COMMANDS } from './backups.ts';
import { apps, envs, status } from './catalog.ts';
import {
  deploy,
  deploymentActions,
  deploymentShow,
  deployments,
  promote,
  rollback,
  traffic,
} from './deployments.ts';
import { releaseCreate, releaseShow, releases, releaseWait } from './releases.ts';
import { resources, scale } from './scaling.ts';

/** Every command, in the order `qubot help` lists them. */
export const COMMANDS: Command[] = [
  login,
  logout,
  whoami,
  tokenSet,
  apps,
  envs,
  releaseCreate,
  releaseShow,
  releaseWait,
  releases,
  deploy,
  promote,
  rollback,
  traffic,
  scale,
  resources,
  ...deploymentActions,
  deploymentShow,
  deployments,
  status,
  ...BACKUP_COMMANDS,
  agent,
];
