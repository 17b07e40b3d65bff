import { describe, expect, it } from 'vitest';
import { readCookie, serializeCookie } from './cookies.ts';

describe('cookies', () => {
  it('reads one cookie of a Cookie header, as browsers send it', () => {
    const header = 'theme=dark; qubot_session=abc.DEF-123_x; qubot_csrf=tok';
    expect(readCookie(header, 'qubot_session')).toBe('abc.DEF-123_x');
    expect(readCookie(header, 'qubot_csrf')).toBe('tok');
    expect(readCookie(header, 'theme')).toBe('dark');
    expect(readCookie(header, 'qubot')).toBeUndefined();
    expect(readCookie(header, 'session')).toBeUndefined();
    expect(readCookie(undefined, 'qubot_session')).toBeUndefined();
    expect(readCookie('', 'qubot_session')).toBeUndefined();
  });

  it('takes the first of two pairs, unquotes, decodes, and tolerates odd spacing and pairs without =', () => {
    expect(readCookie('a=1;a=2', 'a')).toBe('1');
    expect(readCookie('  a = "quoted" ;b=2', 'a')).toBe('quoted');
    expect(readCookie('a=x%20y', 'a')).toBe('x y');
    expect(readCookie('a=%E0%A4%A', 'a')).toBe('%E0%A4%A');
    expect(readCookie('flag; a=1', 'a')).toBe('1');
    expect(readCookie('a=', 'a')).toBe('');
    expect(readCookie('xa=1; a=2', 'a')).toBe('2');
  });

  it('writes Set-Cookie values with the attributes asked for, and clears with an expiry in the past', () => {
    expect(
      serializeCookie('qubot_session', 'abc', {
        path: '/',
        sameSite: 'strict',
        secure: true,
        httpOnly: true,
      }),
    ).toBe('qubot_session=abc; Path=/; HttpOnly; Secure; SameSite=Strict');
    expect(
      serializeCookie('qubot_csrf', 'x-1', { path: '/', sameSite: 'strict', secure: false, httpOnly: false }),
    ).toBe('qubot_csrf=x-1; Path=/; SameSite=Strict');
    expect(
      serializeCookie('a', '', { path: '/', sameSite: 'strict', secure: false, httpOnly: true, clear: true }),
    ).toBe('a=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict');
  });

  it('refuses a name or value a browser would not keep', () => {
    const o = { path: '/', sameSite: 'strict', secure: false, httpOnly: true } as const;
    expect(() => serializeCookie('a b', 'x', o)).toThrow(/not a token/);
    expect(() => serializeCookie('a', 'x;y', o)).toThrow(/cannot carry/);
    expect(() => serializeCookie('a', 'x y', o)).toThrow(/cannot carry/);
  });
});
