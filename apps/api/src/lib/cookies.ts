// The two cookies of a browser session (qubot_session, qubot_csrf): read from the Cookie header
// where authentication needs them, written by sign-in and sign-out. Nothing else in the API
// reads or sets cookies, so no plugin parses every request's header or runs a hook on every
// answer (bench/README.md, "The read path").

/**
 * The value of cookie `name` in a Cookie request header (`a=1; b=2`, RFC 6265 §5.4), or
 * undefined. The first pair with that name wins (browsers send the most specific path first);
 * a quoted value is unquoted and a percent-encoded one decoded, as the `cookie` package does.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const length = header.length;
  let start = 0;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34)
        value = value.slice(1, -1);
      if (value.includes('%')) {
        try {
          value = decodeURIComponent(value);
        } catch {
          // Not valid percent-encoding: the value as sent.
        }
      }
      return value;
    }
    start = end + 1;
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  sameSite: 'strict' | 'lax';
  secure: boolean;
  httpOnly: boolean;
}

// RFC 6265 §4.1.1: a cookie-name is a token; a cookie-value has no CTLs, whitespace, DQUOTE,
// comma, semicolon or backslash.
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/** A Set-Cookie header value. Throws on a name or value a browser would not keep as given. */
export function serializeCookie(
  name: string,
  value: string,
  opts: CookieOptions & { clear?: boolean },
): string {
  if (!NAME.test(name)) throw new TypeError(`cookie name ${JSON.stringify(name)} is not a token`);
  if (!VALUE.test(value))
    throw new TypeError(`the value of cookie ${name} has characters a cookie cannot carry`);
  let out = `${name}=${value}; Path=${opts.path}`;
  if (opts.clear) out += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (opts.httpOnly) out += '; HttpOnly';
  if (opts.secure) out += '; Secure';
  out += opts.sameSite === 'strict' ? '; SameSite=Strict' : '; SameSite=Lax';
  return out;
}
