/**
 * Where to go after signing in: only a path of this site. `next=https://evil.example`,
 * `//evil.example` or `/\evil.example` (which browsers read as `//`) must not turn sign-in into an
 * open redirect, and `next=/login` must not loop.
 */
export function safeNext(next: string | null | undefined, origin = 'http://qubot.invalid'): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  if (url.pathname === '/login' || url.pathname.startsWith('/login/')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The address of the sign-in page that comes back to `location` afterwards. */
export function signInPath(location: { pathname: string; search: string; hash: string }): string {
  const here = `${location.pathname}${location.search}${location.hash}`;
  return here === '/' || location.pathname === '/login'
    ? '/login'
    : `/login?next=${encodeURIComponent(here)}`;
}
