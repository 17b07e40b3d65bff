import { STRATEGY_NAMES, type StrategyName } from './types.ts';

export interface AnalysisOptions {
  enabled: boolean;
  /** How long traffic is observed before metrics are collected (blue-green and rolling; canary uses the step hold). */
  windowSeconds: number;
  /** Fraction 0..1. */
  maxErrorRate: number;
  /** null disables the latency gate. */
  maxP95Ms: number | null;
  /**
   * Minimum sample size of every traffic check (error rate, p95): with fewer requests measured a
   * check is inconclusive — it neither passes nor fails — and the step holds.
   */
  minRequests: number;
  /**
   * Minimum sample size per traffic check; a check left out uses `minRequests`. A lower minimum
   * lets a check judge (and abort early) sooner; the step passes once every check has its minimum.
   */
  minSamples: MinSamples;
  /** How often the analysis measures while a step holds: a time series, and early abort on a breach. */
  intervalSeconds: number;
  /** How long an inconclusive step keeps holding after its hold time before `onInconclusive` applies. */
  inconclusiveLimitSeconds: number;
  /** After the limit: `fail` rolls back; `wait` pauses for a person (advance accepts, abort/rollback). */
  onInconclusive: 'fail' | 'wait';
}

/** The traffic checks that have a minimum sample size of their own. */
export const SAMPLED_CHECKS = ['errorRate', 'p95Ms'] as const;
export type SampledCheck = (typeof SAMPLED_CHECKS)[number];
export type MinSamples = Record<SampledCheck, number>;

export interface CommonOptions {
  healthTimeoutSeconds: number;
  /** Bound on every wait for a person (approval, switch, advance) and on a plain pause. */
  waitTimeoutSeconds: number;
  /** Extra attempts for a command answered with `commandFailed`. */
  commandRetries: number;
  analysis: AnalysisOptions;
}

export interface BlueGreenOptions extends CommonOptions {
  autoSwitch: boolean;
  rollbackWindowSeconds: number;
  smokeCheck: boolean;
}

/** An absolute count or a percentage of the replica count, e.g. `'25%'`. */
export type Quantity = number | `${number}%`;

export interface RollingOptions extends CommonOptions {
  maxSurge: Quantity;
  maxUnavailable: Quantity;
  pauseBetweenBatchesSeconds: number | 'manual';
}

export interface CanaryOptions extends CommonOptions {
  steps: number[];
  stepDurationSeconds: number | 'manual';
  canaryReplicas: number;
}

export interface StrategyOptionsMap {
  'blue-green': BlueGreenOptions;
  rolling: RollingOptions;
  canary: CanaryOptions;
}
export type StrategyOptions = StrategyOptionsMap[StrategyName];

export interface OptionError {
  /** Path of the offending field as the client sent it, e.g. `options.steps[2]`. */
  field: string;
  message: string;
}

export type ParseOptionsResult<S extends StrategyName = StrategyName> =
  | { ok: true; strategy: S; options: StrategyOptionsMap[S] }
  | { ok: false; errors: OptionError[] };

export interface OptionsContext {
  /** Protected environments default to a manual blue-green switch. */
  protected?: boolean;
  /**
   * The environment's setting for an analysis still inconclusive after its limit; null or absent:
   * follow protection (`wait` on protected environments, `fail` elsewhere). Options override it.
   */
  onInconclusive?: 'fail' | 'wait' | null;
}

/** What an inconclusive analysis does after its limit when the deployment's options do not say. */
export function defaultOnInconclusive(context: OptionsContext): 'fail' | 'wait' {
  return context.onInconclusive ?? (context.protected ? 'wait' : 'fail');
}

export const DEFAULTS = {
  healthTimeoutSeconds: 120,
  waitTimeoutSeconds: 86_400,
  commandRetries: 1,
  analysis: {
    windowSeconds: 30,
    maxErrorRate: 0.05,
    maxP95Ms: 1000,
    minRequests: 20,
    intervalSeconds: 10,
    inconclusiveLimitSeconds: 300,
  },
  rollbackWindowSeconds: 600,
  smokeCheck: false,
  maxSurge: 1,
  maxUnavailable: 0,
  pauseBetweenBatchesSeconds: 0,
  steps: [10, 25, 50, 100],
  stepDurationSeconds: 60,
  canaryReplicas: 1,
} as const;

const COMMON_KEYS = ['healthTimeoutSeconds', 'waitTimeoutSeconds', 'commandRetries', 'analysis'];
const KEYS: Record<StrategyName, string[]> = {
  'blue-green': [...COMMON_KEYS, 'autoSwitch', 'rollbackWindowSeconds', 'smokeCheck'],
  rolling: [...COMMON_KEYS, 'maxSurge', 'maxUnavailable', 'pauseBetweenBatchesSeconds'],
  canary: [...COMMON_KEYS, 'steps', 'stepDurationSeconds', 'canaryReplicas'],
};
const ANALYSIS_KEYS = [
  'enabled',
  'windowSeconds',
  'maxErrorRate',
  'maxP95Ms',
  'minRequests',
  'minSamples',
  'intervalSeconds',
  'inconclusiveLimitSeconds',
  'onInconclusive',
];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly errors: OptionError[] = [];
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  private fail(key: string, message: string): void {
    this.errors.push({ field: `${this.prefix}.${key}`, message });
  }

  unknownKeys(allowed: string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) this.fail(key, 'unknown option');
    }
  }

  int(key: string, def: number, min: number, max: number): number {
    const v = this.obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer from ${min} to ${max}`);
      return def;
    }
    return v;
  }

  num(key: string, def: number, min: number, max: number): number {
    const v = this.obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(key, `must be a number from ${min} to ${max}`);
      return def;
    }
    return v;
  }

  nullableNum(key: string, def: number | null, min: number, max: number): number | null {
    const v = this.obj[key];
    if (v === null) return null;
    if (v === undefined) return def;
    return this.num(key, def ?? min, min, max);
  }

  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    const v = this.obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${allowed.join(', ')}`);
      return def;
    }
    return v as T;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.fail(key, 'must be true or false');
      return def;
    }
    return v;
  }

  intOrManual(key: string, def: number | 'manual', min: number, max: number): number | 'manual' {
    const v = this.obj[key];
    if (v === 'manual') return 'manual';
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be 'manual' or an integer from ${min} to ${max}`);
      return def;
    }
    return v;
  }

  quantity(key: string, def: Quantity): Quantity {
    const v = this.obj[key];
    if (v === undefined) return def;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1000) return v;
    if (typeof v === 'string' && /^\d{1,3}%$/.test(v) && Number.parseInt(v, 10) <= 100) return v as Quantity;
    this.fail(key, "must be a non-negative integer or a percentage such as '25%'");
    return def;
  }

  steps(key: string, def: readonly number[]): number[] {
    const v = this.obj[key];
    if (v === undefined) return [...def];
    if (!Array.isArray(v) || v.length === 0 || v.length > 20) {
      this.fail(key, 'must be a list of 1 to 20 weights');
      return [...def];
    }
    let ok = true;
    let previous = 0;
    v.forEach((w: unknown, i) => {
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 100) {
        this.fail(`${key}[${i}]`, 'must be an integer weight from 1 to 100');
        ok = false;
      } else if (w <= previous) {
        this.fail(`${key}[${i}]`, `must be greater than the previous weight (${previous})`);
        ok = false;
      } else {
        previous = w;
      }
    });
    if (!ok) return [...def];
    const steps = v as number[];
    // Like Argo Rollouts, a plan that stops short of 100 % still ends fully promoted.
    return steps[steps.length - 1] === 100 ? steps : [...steps, 100];
  }

  object(key: string): Reader | null {
    const v = this.obj[key];
    if (v === undefined) return new Reader({}, `${this.prefix}.${key}`);
    if (!isRecord(v)) {
      this.fail(key, 'must be an object');
      return null;
    }
    return new Reader(v, `${this.prefix}.${key}`);
  }
}

/** `analysis.minSamples`: a minimum per check, `minRequests` for the checks left out. */
function readMinSamples(a: Reader | null, minRequests: number): MinSamples {
  const m = a?.object('minSamples') ?? null;
  m?.unknownKeys([...SAMPLED_CHECKS]);
  const minSamples = {
    errorRate: m?.int('errorRate', minRequests, 1, 1_000_000_000) ?? minRequests,
    p95Ms: m?.int('p95Ms', minRequests, 1, 1_000_000_000) ?? minRequests,
  };
  if (m) a?.errors.push(...m.errors);
  return minSamples;
}

const quantityIsZero = (q: Quantity): boolean => q === 0 || q === '0%';

/**
 * Validate the `options` of a deployment request and fill in defaults.
 * Unknown fields are errors (strict, like every schema of the API); each error names its field.
 */
export function parseStrategyOptions<S extends StrategyName>(
  strategy: S,
  raw: unknown,
  context?: OptionsContext,
): ParseOptionsResult<S>;
export function parseStrategyOptions(
  strategy: string,
  raw: unknown,
  context?: OptionsContext,
): ParseOptionsResult;
export function parseStrategyOptions(
  strategy: string,
  raw: unknown,
  context: OptionsContext = {},
): ParseOptionsResult {
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) {
    return {
      ok: false,
      errors: [{ field: 'strategy', message: `must be one of ${STRATEGY_NAMES.join(', ')}` }],
    };
  }
  const name = strategy as StrategyName;
  if (raw !== undefined && raw !== null && !isRecord(raw)) {
    return { ok: false, errors: [{ field: 'options', message: 'must be an object' }] };
  }
  const r = new Reader(raw ?? {}, 'options');
  r.unknownKeys(KEYS[name]);

  const a = r.object('analysis');
  a?.unknownKeys(ANALYSIS_KEYS);
  const minRequests = a?.int('minRequests', DEFAULTS.analysis.minRequests, 1, 1_000_000_000) ?? 20;
  const analysis: AnalysisOptions = {
    enabled: a?.bool('enabled', name === 'canary') ?? name === 'canary',
    windowSeconds: a?.int('windowSeconds', DEFAULTS.analysis.windowSeconds, 1, 3600) ?? 30,
    maxErrorRate: a?.num('maxErrorRate', DEFAULTS.analysis.maxErrorRate, 0, 1) ?? 0.05,
    maxP95Ms: a ? a.nullableNum('maxP95Ms', DEFAULTS.analysis.maxP95Ms, 1, 600_000) : 1000,
    minRequests,
    minSamples: readMinSamples(a, minRequests),
    intervalSeconds: a?.int('intervalSeconds', DEFAULTS.analysis.intervalSeconds, 1, 3600) ?? 10,
    inconclusiveLimitSeconds:
      a?.int('inconclusiveLimitSeconds', DEFAULTS.analysis.inconclusiveLimitSeconds, 0, 604_800) ?? 300,
    // The environment's setting, else protected environments wait for a person rather than roll
    // back on missing data (like autoSwitch); the deployment's options override both.
    onInconclusive:
      a?.oneOf('onInconclusive', defaultOnInconclusive(context), ['fail', 'wait'] as const) ??
      defaultOnInconclusive(context),
  };
  const common: CommonOptions = {
    healthTimeoutSeconds: r.int('healthTimeoutSeconds', DEFAULTS.healthTimeoutSeconds, 1, 3600),
    waitTimeoutSeconds: r.int('waitTimeoutSeconds', DEFAULTS.waitTimeoutSeconds, 1, 604_800),
    commandRetries: r.int('commandRetries', DEFAULTS.commandRetries, 0, 10),
    analysis,
  };

  let options: StrategyOptions;
  if (name === 'blue-green') {
    options = {
      ...common,
      autoSwitch: r.bool('autoSwitch', !context.protected),
      rollbackWindowSeconds: r.int('rollbackWindowSeconds', DEFAULTS.rollbackWindowSeconds, 0, 86_400),
      smokeCheck: r.bool('smokeCheck', DEFAULTS.smokeCheck),
    };
  } else if (name === 'rolling') {
    const maxSurge = r.quantity('maxSurge', DEFAULTS.maxSurge);
    const maxUnavailable = r.quantity('maxUnavailable', DEFAULTS.maxUnavailable);
    const rawObj = (raw ?? {}) as Record<string, unknown>;
    if (quantityIsZero(maxSurge) && quantityIsZero(maxUnavailable)) {
      const field = rawObj.maxUnavailable !== undefined ? 'maxUnavailable' : 'maxSurge';
      r.errors.push({
        field: `options.${field}`,
        message: 'maxSurge and maxUnavailable cannot both be 0: no instance could ever be replaced',
      });
    }
    options = {
      ...common,
      maxSurge,
      maxUnavailable,
      pauseBetweenBatchesSeconds: r.intOrManual(
        'pauseBetweenBatchesSeconds',
        DEFAULTS.pauseBetweenBatchesSeconds,
        0,
        86_400,
      ),
    };
  } else {
    options = {
      ...common,
      steps: r.steps('steps', DEFAULTS.steps),
      stepDurationSeconds: r.intOrManual('stepDurationSeconds', DEFAULTS.stepDurationSeconds, 1, 86_400),
      canaryReplicas: r.int('canaryReplicas', DEFAULTS.canaryReplicas, 1, 1000),
    };
  }

  const errors = [...r.errors, ...(a?.errors ?? [])];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, strategy: name, options };
}

/** Resolve a `Quantity` against the replica count (surge rounds up, unavailability down, like Kubernetes). */
export function resolveQuantity(q: Quantity, replicas: number, round: 'up' | 'down'): number {
  if (typeof q === 'number') return q;
  const pct = Number.parseInt(q, 10);
  const exact = (replicas * pct) / 100;
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact);
}
