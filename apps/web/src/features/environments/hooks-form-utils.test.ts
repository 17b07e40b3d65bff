import { describe, expect, it } from 'vitest';
import { draftOfHooks, hookProblems, hooksBody, hooksValid } from './hooks-form-utils';

describe('hooks-form-utils', () => {
  it('turns stored hooks into a draft and back into the PUT body (an unticked hook is removed)', () => {
    const draft = draftOfHooks({ pre: { job: 'migrate', timeoutSeconds: 120 }, post: null });
    expect(draft).toEqual({
      pre: { enabled: true, job: 'migrate', timeoutSeconds: '120' },
      post: { enabled: false, job: '', timeoutSeconds: '300' },
    });
    expect(hooksBody(draft, '  ')).toEqual({ pre: { job: 'migrate', timeoutSeconds: 120 }, post: null });
    const changed = {
      ...draft,
      pre: { ...draft.pre, enabled: false },
      post: { enabled: true, job: ' smoke ', timeoutSeconds: '30' },
    };
    expect(hooksBody(changed, 'go')).toEqual({
      pre: null,
      post: { job: 'smoke', timeoutSeconds: 30 },
      reason: 'go',
    });
  });

  it('names the field at fault: a command is not a job, the timeout is 1–3600 s', () => {
    expect(hookProblems({ enabled: true, job: 'rm -rf /', timeoutSeconds: '10' }).job).toMatch(
      /not a command/,
    );
    expect(hookProblems({ enabled: true, job: '', timeoutSeconds: '10' }).job).toMatch(/Name the job/);
    expect(hookProblems({ enabled: true, job: 'smoke', timeoutSeconds: '0' }).timeoutSeconds).toMatch(
      /1–3600/,
    );
    expect(hookProblems({ enabled: true, job: 'smoke', timeoutSeconds: '3601' }).timeoutSeconds).toBeTruthy();
    expect(hookProblems({ enabled: false, job: 'rm -rf /', timeoutSeconds: 'x' })).toEqual({});
    expect(
      hooksValid({
        pre: { enabled: true, job: 'migrate', timeoutSeconds: '60' },
        post: { enabled: false, job: '', timeoutSeconds: '' },
      }),
    ).toBe(true);
  });
});
