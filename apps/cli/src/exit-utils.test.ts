import { ApiError } from '@qubot/client';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeForDeployment, exitCodeForHttp, exitCodeOf, isTerminal } from './exit-utils.ts';

describe('[CLI] exit codes', () => {
  it('maps HTTP answers to the documented exit codes', () => {
    expect(exitCodeForHttp(400, 'validation_failed')).toBe(ExitCode.Usage);
    expect(exitCodeForHttp(401, 'unauthenticated')).toBe(ExitCode.Auth);
    expect(exitCodeForHttp(403, 'forbidden')).toBe(ExitCode.Auth);
    expect(exitCodeForHttp(404, 'not_found')).toBe(ExitCode.NotFound);
    expect(exitCodeForHttp(409, 'conflict')).toBe(ExitCode.Conflict);
    expect(exitCodeForHttp(409, 'environment_frozen')).toBe(ExitCode.Conflict);
    expect(exitCodeForHttp(423)).toBe(ExitCode.Conflict);
    expect(exitCodeForHttp(503, 'unavailable')).toBe(ExitCode.Unavailable);
    expect(exitCodeForHttp(502)).toBe(ExitCode.Unavailable);
    expect(exitCodeForHttp(500, 'internal')).toBe(ExitCode.Error);
    expect(exitCodeForHttp(429, 'rate_limited')).toBe(ExitCode.Error);
  });

  it('trusts the envelope code over the status', () => {
    expect(exitCodeForHttp(400, 'conflict')).toBe(ExitCode.Conflict);
    expect(exitCodeOf(new ApiError({ status: 409, code: 'conflict', message: 'busy' }))).toBe(
      ExitCode.Conflict,
    );
    expect(exitCodeOf(new ApiError({ status: 0, code: 'network_error', message: 'down' }))).toBe(
      ExitCode.Unavailable,
    );
  });

  it('fails a waited deployment unless it succeeded', () => {
    expect(exitCodeForDeployment('succeeded')).toBe(ExitCode.Ok);
    for (const s of ['failed', 'rolled_back', 'aborted']) {
      expect(isTerminal(s)).toBe(true);
      expect(exitCodeForDeployment(s)).toBe(ExitCode.DeploymentFailed);
    }
    for (const s of ['pending', 'running', 'paused']) expect(isTerminal(s)).toBe(false);
  });

  it('keeps the documented numbers', () => {
    expect(ExitCode).toMatchObject({
      Ok: 0,
      Error: 1,
      Usage: 2,
      Auth: 3,
      NotFound: 4,
      Conflict: 5,
      DeploymentFailed: 6,
      Unavailable: 7,
    });
  });
});
