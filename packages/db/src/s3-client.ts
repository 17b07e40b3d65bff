// A minimal client for S3-compatible object storage (AWS S3, MinIO, Ceph, R2, …): PUT, GET, DELETE
// and ListObjectsV2 with path-style addressing, signed with AWS Signature Version 4 using
// node:crypto and fetch. Backups need only these four calls; the AWS SDK would add megabytes of
// dependencies for them. docs/backup.md ("S3-compatible storage").
import { createHash, createHmac } from 'node:crypto';

export interface S3Target {
  /** e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio.internal:9000`. */
  endpoint: string;
  bucket: string;
  /** Key prefix under which backups live (no leading or trailing slash needed). */
  prefix: string;
  region: string;
  accessKeyId: string;
  /** Never logged, never returned by the API. */
  secretAccessKey: string;
}

/** An S3 request that failed: `code` is S3's error code (`SignatureDoesNotMatch`, `NoSuchKey`, …). */
export class S3RequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'S3RequestError';
  }
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const xmlText = (s: string) =>
  s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');

const tag = (xml: string, name: string): string | null => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m?.[1] === undefined ? null : xmlText(m[1]);
};

const tags = (xml: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => xmlText(m[1] ?? ''));

/** What an S3 error code means to the operator who configured the target. */
function explain(code: string, target: S3Target): string {
  switch (code) {
    case 'SignatureDoesNotMatch':
      return 'the storage rejected the request signature: the secret access key is wrong (QUBOT_BACKUP_S3_SECRET_ACCESS_KEY)';
    case 'InvalidAccessKeyId':
      return `the storage does not know access key id "${target.accessKeyId}" (QUBOT_BACKUP_S3_ACCESS_KEY_ID)`;
    case 'NoSuchBucket':
      return `bucket "${target.bucket}" does not exist (QUBOT_BACKUP_S3_BUCKET)`;
    case 'AccessDenied':
      return 'access denied: the key may not read or write this bucket or prefix';
    default:
      return code;
  }
}

export interface S3ListResult {
  keys: Array<{ key: string; size: number }>;
  /** With a delimiter: the "directories" directly under the prefix. */
  prefixes: string[];
}

export function createS3Client(target: S3Target, opts: { timeoutMs?: number; now?: () => Date } = {}) {
  const endpoint = new URL(target.endpoint);
  const base = endpoint.pathname.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const now = opts.now ?? (() => new Date());

  async function request(
    method: 'GET' | 'PUT' | 'DELETE',
    key: string | null,
    query: Record<string, string> = {},
    body?: Uint8Array,
  ): Promise<Response> {
    const path = `${base}/${encode(target.bucket)}${key === null ? '' : `/${key.split('/').map(encode).join('/')}`}`;
    const canonicalQuery = Object.keys(query)
      .sort()
      .map((k) => `${encode(k)}=${encode(query[k] ?? '')}`)
      .join('&');
    const amzDate = now()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const day = amzDate.slice(0, 8);
    const payloadHash = sha256(body ?? '');
    const headers: Record<string, string> = {
      host: endpoint.host,
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
    };
    const signed = Object.keys(headers).sort();
    const canonicalRequest = [
      method,
      path,
      canonicalQuery,
      signed.map((h) => `${h}:${headers[h]}\n`).join(''),
      signed.join(';'),
      payloadHash,
    ].join('\n');
    const scope = `${day}/${target.region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
    const kDate = hmac(`AWS4${target.secretAccessKey}`, day);
    const kSigning = hmac(hmac(hmac(kDate, target.region), 's3'), 'aws4_request');
    const signature = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
    const url = `${endpoint.protocol}//${endpoint.host}${path}${canonicalQuery ? `?${canonicalQuery}` : ''}`;
    const { host: _host, ...sent } = headers;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...sent,
          authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`,
        },
        ...(body ? { body: new Uint8Array(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new S3RequestError(
        `S3 storage ${endpoint.origin} cannot be reached: ${(err as Error).message}`,
        0,
        'Unreachable',
      );
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      const code = tag(text, 'Code') ?? `HTTP ${res.status}`;
      throw new S3RequestError(
        `S3 ${method} s3://${target.bucket}/${key ?? ''} failed: ${explain(code, target)}`,
        res.status,
        code,
      );
    }
    return res;
  }

  return {
    target,
    async put(key: string, body: Uint8Array): Promise<void> {
      const res = await request('PUT', key, {}, body);
      await res.arrayBuffer();
    },
    async get(key: string): Promise<Buffer> {
      const res = await request('GET', key);
      return Buffer.from(await res.arrayBuffer());
    },
    async delete(key: string): Promise<void> {
      const res = await request('DELETE', key);
      await res.arrayBuffer();
    },
    /** Every key under `prefix` (ListObjectsV2, following continuation tokens). */
    async list(prefix: string, delimiter?: string): Promise<S3ListResult> {
      const out: S3ListResult = { keys: [], prefixes: [] };
      let token: string | null = null;
      do {
        const query: Record<string, string> = { 'list-type': '2', prefix };
        if (delimiter) query.delimiter = delimiter;
        if (token) query['continuation-token'] = token;
        const xml = await (await request('GET', null, query)).text();
        for (const c of tags(xml, 'Contents'))
          out.keys.push({ key: tag(c, 'Key') ?? '', size: Number(tag(c, 'Size') ?? 0) });
        for (const p of tags(xml, 'CommonPrefixes')) out.prefixes.push(tag(p, 'Prefix') ?? '');
        token = tag(xml, 'IsTruncated') === 'true' ? tag(xml, 'NextContinuationToken') : null;
      } while (token);
      return out;
    },
  };
}
export type S3Client = ReturnType<typeof createS3Client>;
