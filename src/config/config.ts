import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseByteSize } from '../lib/byte-sizes.js';
import { durationProblem, parseDuration } from '../lib/durations.js';
import { isLoopbackAddress } from '../lib/loopback.js';
import { parseRate, rateProblem } from '../limits/rates.js';
import { isAddressOrRange } from '../server/request-identity.js';

/** The YAML parser loads only when a config file is given: most starts have none, and it costs ~30 ms. */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/** A setting written as text, parsed; when it does not parse, the parser's words say why. */
function parsedText<T>(parse: (text: string) => T | undefined, problem: (text: string) => string) {
  return z.string().transform((text, context) => {
    const value = parse(text);
    if (value === undefined) {
      context.addIssue({ code: 'custom', message: problem(text) });
      return z.NEVER;
    }
    return value;
  });
}

/** Durations are written `500ms`, `30s`, `15m`, `24h` or `7d`; they become milliseconds. */
const duration = parsedText(parseDuration, durationProblem);

/** Request rates are written `600/min`, `20/s`, `5/10s`, `1000/h` or `unlimited`. */
const rate = parsedText(parseRate, rateProblem);

/**
 * The instance-wide request limits (token buckets); the administrator overrides them per project.
 * Limiting is on once any rate is set, unless `enabled: false` says otherwise.
 */
const rateLimitsSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** Per principal (an anonymous caller by client address): pulls, and every other read of /v2/. */
    pull: rate.optional(),
    /** Per principal: pushes and deletes. */
    push: rate.optional(),
    /** Per repository, every principal together. */
    repositoryPull: rate.optional(),
    repositoryPush: rate.optional(),
    /** Per principal: management API calls. */
    api: rate.optional(),
  })
  .strict()
  .transform(({ enabled, ...rates }) => ({
    ...rates,
    enabled: enabled ?? Object.values(rates).some((value) => value !== undefined),
  }));

export type RateLimitsConfig = z.infer<typeof rateLimitsSchema>;

/** Vulnerability scanning with Trivy; which repositories are scanned is a per-repository setting. */
const scanningSchema = z
  .object({
    /** Scans this instance runs at once; 0 leaves the queue to other instances. */
    workers: z.number().int().min(0).max(64).default(1),
    /** A scan still running after this long is stopped and counts as a failed attempt. */
    timeout: duration.default(10 * 60_000),
    /** Attempts per scan when Trivy fails, crashes or times out (failures that may pass). */
    maxAttempts: z.number().int().min(1).max(20).default(3),
    /** The wait before the second attempt; it doubles for each attempt after that. */
    retryBackoff: duration.default(30_000),
    /** How often idle workers look for queued scans (pushes to this instance wake them at once). */
    pollInterval: duration.default(5_000),
    /** A running scan holds its job this long between renewals; a stopped instance's jobs are retaken after it. */
    lease: duration.default(60_000),
    /** Where image layouts are assembled for Trivy; on the blobs' filesystem, so blobs are hard-linked. */
    workDir: z.string().optional(),
    trivy: z
      .object({
        /** The Trivy program: a path, or a name looked up on PATH. */
        path: z.string().min(1).default('trivy'),
        /** A Trivy server (`trivy server`): scan in client/server mode, the database lives there. */
        server: z.url().optional(),
        /** `--cache-dir`: Trivy's database and cache. */
        cacheDir: z.string().optional(),
        /** `--skip-db-update`: use the database already in the cache dir. */
        skipDbUpdate: z.boolean().default(false),
        /** `--offline-scan`: no network requests during the scan. */
        offlineScan: z.boolean().default(false),
        /** `--db-repository`: a mirror of the vulnerability database (an OCI repository). */
        dbRepository: z.string().min(1).optional(),
        /** Any further arguments for `trivy image`. */
        extraArgs: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ScanningConfig = z.infer<typeof scanningSchema>;

/** Limits on client connections, so slow or stalled clients cannot hold the daemon's sockets. */
const httpSchema = z
  .object({
    /** A request's headers must have arrived whole this long after it started (a connection's first byte). */
    headersTimeout: duration.default(30_000),
    /** An idle connection between requests is closed after this long. */
    keepAliveTimeout: duration.default(65_000),
    /**
     * A request body that moves no byte for this long is cut off, as is a response its client stops
     * reading. A slow body that keeps moving is never cut: there is no limit on a whole request.
     */
    bodyTimeout: duration.default(60_000),
    /** Connections open at once from one client address (one /64 for IPv6); 0 for no limit. */
    maxConnectionsPerClient: z.number().int().min(0).default(128),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpSchema>;

/** Garbage collection: what nothing references any longer is removed while the daemon serves. */
const gcSchema = z
  .object({
    /** How often the collector runs; `0s` turns the schedule off (`mistrive admin gc` still runs it). */
    interval: duration.default(3_600_000),
    /** A blob a client was told exists is kept at least this long after the answer, referenced or not. */
    delay: duration.default(3_600_000),
    /** The collector holds its lease in the metadata store this long between renewals (one collector at a time). */
    lease: duration.default(30_000),
  })
  .strict();

export type GcConfig = z.infer<typeof gcSchema>;

/**
 * HTTPS: a certificate and key from files (reloaded on SIGHUP), or the self-signed mode, where the
 * daemon makes and keeps a private CA and a server certificate under the data directory.
 */
const tlsSchema = z
  .object({
    /** The server certificate (PEM, followed by any intermediate certificates). */
    cert: z.string().min(1).optional(),
    /** Its private key (PEM). */
    key: z.string().min(1).optional(),
    /** Make a private CA and a server certificate in DATA/tls/ and serve with them. */
    selfSigned: z.boolean().default(false),
    /** The host names and addresses the self-signed certificate is for (loopback is always added); by default this machine's name and addresses. */
    names: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .superRefine((tls, context) => {
    const problem = tlsProblem(tls);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

export type TlsConfig = z.infer<typeof tlsSchema>;

function tlsProblem(tls: TlsConfig): string | undefined {
  if (tls.selfSigned && (tls.cert || tls.key)) {
    return 'choose either a certificate and key (--tls-cert, --tls-key) or the self-signed mode (--tls self-signed), not both';
  }
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    return 'a certificate needs its key and a key its certificate: give both --tls-cert and --tls-key';
  }
  if (tls.names.length > 0 && !tls.selfSigned) {
    return 'names (--tls-names) are for the self-signed mode only: add --tls self-signed, or leave them out (a given certificate names its hosts itself)';
  }
  return undefined;
}

/** Byte sizes are written `500MB`, `1GiB` or as a number of bytes. */
const byteSize = z.union([z.number().int().min(0), z.string()]).transform((given, context) => {
  const bytes = typeof given === 'number' ? given : parseByteSize(given);
  if (bytes === undefined) {
    context.addIssue({ code: 'custom', message: `"${given}" is not a size such as 500MB, 1GiB or 1048576` });
    return z.NEVER;
  }
  return bytes;
});

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback). */
const listenAddress = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[^\s:/[\]]*):\d{1,5}$/, 'must be HOST:PORT, such as 127.0.0.1:9090')
  .refine(
    (address) => Number(address.slice(address.lastIndexOf(':') + 1)) <= 65535,
    'the port must be 0 to 65535',
  );

/** What operators watch: metrics, readiness, and the audit log's retention. */
const opsSchemas = {
  metrics: z
    .object({
      /** A second listener serving /metrics (and /healthz, /readyz) to anyone who reaches it; the main port serves /metrics to the administrator only. */
      address: listenAddress.optional(),
    })
    .strict()
    .prefault({}),
  health: z
    .object({
      /** /readyz answers 503 when the data directory's filesystem has less free space than this. */
      minFreeBytes: byteSize.default(100 * 2 ** 20),
    })
    .strict()
    .prefault({}),
  audit: z
    .object({
      /** Audit entries older than this are deleted; `0s` keeps them for ever. */
      retention: duration.default(90 * 86_400_000),
    })
    .strict()
    .prefault({}),
};

export type MetricsConfig = z.infer<typeof opsSchemas.metrics>;

/** Where the metadata lives: SQLite in the data directory unless a PostgreSQL URL is given. */
const metadataSchema = z
  .object({
    /**
     * `postgres://USER:PASSWORD@HOST:5432/DATABASE`: metadata on PostgreSQL, shared by every
     * instance given the same URL (MISTRIVE_POSTGRES_URL when the file has none).
     */
    postgres: z
      .string()
      .refine(
        (url) => /^postgres(ql)?:\/\/./.test(url) && URL.canParse(url),
        'must be a URL such as postgres://USER:PASSWORD@HOST:5432/mistrive',
      )
      .optional(),
    /** Connections to PostgreSQL this instance keeps open at most. */
    poolSize: z.number().int().min(1).max(1000).default(10),
  })
  .strict();

export type MetadataConfig = z.infer<typeof metadataSchema>;
/** Webhooks: where they may send, and how deliveries are retried. */
const webhooksSchema = z
  .object({
    /** Lets webhooks reach loopback, private, link-local and unspecified addresses (never the metadata endpoints). */
    allowPrivateTargets: z.boolean().default(false),
    /** Addresses or CIDR ranges webhooks may reach whatever their kind (the metadata endpoints included). */
    allowedTargets: z
      .array(z.string().refine(isAddressOrRange, 'must be an IP address or a CIDR range such as 10.0.0.0/8'))
      .default([]),
    /** Deliveries this instance sends at once; 0 leaves the queue to other instances. */
    workers: z.number().int().min(0).max(64).default(4),
    /** Attempts per delivery before it is recorded as failed. */
    maxAttempts: z.number().int().min(1).max(50).default(8),
    /** The wait before the second attempt; it doubles for each attempt after that, up to `maxBackoff`. */
    retryBackoff: duration.default(1_000),
    maxBackoff: duration.default(5 * 60_000),
    /** A receiver that has not answered after this long counts as a failed attempt. */
    timeout: duration.default(10_000),
    /** How often idle workers look for due deliveries (events on this instance wake them at once). */
    pollInterval: duration.default(5_000),
    /** A delivery being sent is held this long; a stopped instance's deliveries are retaken after it. */
    lease: duration.default(60_000),
    /** Records of finished deliveries (and their attempts) are deleted this long after they finished. */
    keepDeliveries: duration.default(30 * 86_400_000),
  })
  .strict()
  .refine((webhooks) => webhooks.lease > webhooks.timeout, {
    message: 'webhooks.lease must be longer than webhooks.timeout',
    path: ['lease'],
  });

export type WebhooksConfig = z.infer<typeof webhooksSchema>;

/** Keys a secret would go under: credentials come from the AWS chain, never from this file. */
const credentialKeys = ['accessKeyId', 'secretAccessKey', 'sessionToken', 'credentials'];

/** Blobs in an S3-compatible bucket instead of the data directory (metadata stays where it is). */
const s3Settings = {
  /** An S3-compatible server, e.g. `http://127.0.0.1:7480`; omitted for AWS. */
  endpoint: z.url().optional(),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 of a-z, 0-9, "." and "-"'),
  region: z.string().min(1).default('us-east-1'),
  /** `http://HOST/BUCKET/KEY` rather than `http://BUCKET.HOST/KEY`: most self-hosted servers want it. */
  forcePathStyle: z.boolean().default(false),
  /** Prepended to every key, so one bucket can hold other things too. */
  prefix: z
    .string()
    .regex(/^(?:[A-Za-z0-9._-]+\/)*$/, 'must be empty or folder names each ending in "/", e.g. registry/')
    .default(''),
  /** Blob GETs answer 307 with a presigned URL of the object, so the bytes bypass the registry. */
  redirect: z.boolean().default(false),
  /** How long a presigned URL stays valid. */
  redirectExpiry: duration.default(5 * 60_000),
};
const s3Schema = z.strictObject(s3Settings, {
  error: (issue) =>
    issue.code === 'unrecognized_keys' && issue.keys.some((key) => credentialKeys.includes(key))
      ? 'S3 credentials are not read from the config file: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use ~/.aws/credentials (AWS_PROFILE)'
      : undefined,
});

export type S3Config = z.infer<typeof s3Schema>;

const configSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5000),
    dataDir: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Create missing projects and repositories on first push: for throwaway local registries only. */
    autoCreateRepositories: z.boolean().default(false),
    tls: tlsSchema.prefault({}),
    /** Serve plain HTTP on an address that is not loopback (behind a proxy that terminates TLS). */
    insecureHttp: z.boolean().default(false),
    uploads: z
      .object({
        /** Upload sessions untouched for this long are deleted with their bytes. */
        purgeAfter: duration.default(24 * 3_600_000),
        purgeEvery: duration.default(3_600_000),
      })
      .strict()
      .prefault({}),
    http: httpSchema.prefault({}),
    /** How long shutdown waits for requests in flight before closing their connections. */
    shutdownGrace: duration.default(10_000),
    /**
     * Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client, for the request
     * log and the per-client sign-in limits; nobody's by default, so a client cannot pose as another.
     */
    trustedProxies: z
      .array(z.string().refine(isAddressOrRange, 'must be an IP address or a CIDR range such as 10.0.0.0/8'))
      .default([]),
    /** The URL clients reach this registry at, when a proxy sits in front; else taken from each request's Host. */
    publicUrl: z.url().optional(),
    auth: z
      .object({
        /** The `service` of the Docker token flow, and the audience of registry tokens. */
        service: z.string().min(1).default('mistrive'),
        registryTokenTtl: duration.default(5 * 60_000),
        accessTokenTtl: duration.default(60 * 60_000),
        refreshTokenTtl: duration.default(30 * 86_400_000),
        /** Failed password checks allowed per account, and per client address, in `failureWindow`. */
        failuresPerAccount: z.number().int().positive().default(5),
        failuresPerClient: z.number().int().positive().default(20),
        failureWindow: duration.default(15 * 60_000),
      })
      .strict()
      .prefault({}),
    metadata: metadataSchema.prefault({}),
    scanning: scanningSchema.prefault({}),
    webhooks: webhooksSchema.prefault({}),
    gc: gcSchema.prefault({}),
    rateLimits: rateLimitsSchema.prefault({}),
    /** Where blob bytes live: the data directory unless `s3` is set. */
    blobs: z.object({ s3: s3Schema.optional() }).strict().prefault({}),
    cleanup: z
      .object({
        /** How often every repository's cleanup policies are evaluated (and, outside dry run, applied). */
        interval: duration.default(3_600_000),
      })
      .strict()
      .prefault({}),
    ...opsSchemas,
  })
  .strict();

export type ServeConfig = z.infer<typeof configSchema> & {
  dataDir: string;
  /** From MISTRIVE_ADMIN_PASSWORD only: a secret never belongs in a config file. */
  adminPassword: string | undefined;
};

export type ServeOverrides = Partial<Pick<ServeConfig, 'host' | 'port' | 'dataDir' | 'logLevel'>> & {
  metadata?: z.input<typeof metadataSchema>;
  autoCreateRepositories?: boolean;
  trustedProxies?: string[];
  tls?: Partial<z.input<typeof tlsSchema>>;
  insecureHttp?: boolean;
  scanning?: z.input<typeof scanningSchema>;
  webhooks?: z.input<typeof webhooksSchema>;
  http?: z.input<typeof httpSchema>;
  gc?: z.input<typeof gcSchema>;
  cleanup?: { interval?: string };
  auth?: { accessTokenTtl?: string };
  uploads?: { purgeAfter?: string; purgeEvery?: string };
  metrics?: { address?: string };
  health?: { minFreeBytes?: number | string };
  audit?: { retention?: string };
  rateLimits?: z.input<typeof rateLimitsSchema>;
  blobs?: { s3?: z.input<typeof s3Schema> };
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The default data directory: `$XDG_DATA_HOME/mistrive`, else `~/.local/share/mistrive`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'mistrive');
}

/**
 * Builds the daemon's configuration: defaults, then the YAML or JSON file, then flags.
 * Environment variables are read here and nowhere else.
 */
export function loadServeConfig(
  file: string | undefined,
  overrides: ServeOverrides,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      fromFile = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const merged: Record<string, unknown> = { ...(fromFile as object), ...defined };
  // Flags refine the file's TLS settings rather than replace them (`--tls-names` beside a file's selfSigned).
  if (overrides.tls && isObject((fromFile as Record<string, unknown>).tls)) {
    merged.tls = { ...((fromFile as Record<string, unknown>).tls as object), ...definedOnly(overrides.tls) };
  } else if (overrides.tls) merged.tls = definedOnly(overrides.tls);
  if (env.MISTRIVE_POSTGRES_URL) {
    const metadata = merged.metadata ?? {};
    if (typeof metadata === 'object' && metadata !== null && !('postgres' in metadata))
      merged.metadata = { ...metadata, postgres: env.MISTRIVE_POSTGRES_URL };
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(
      `invalid configuration${file ? ` in ${file}` : ''}: ${issue?.path.join('.') || 'config'}: ${issue?.message}`,
    );
  }
  const config = result.data;
  return {
    ...config,
    dataDir: resolve(config.dataDir ?? env.MISTRIVE_DATA_DIR ?? defaultDataDir(env)),
    adminPassword: env.MISTRIVE_ADMIN_PASSWORD || undefined,
  };
}

/**
 * Refuses to serve plain HTTP on an address that is not loopback, unless `insecureHttp` says a proxy
 * in front terminates TLS. Checked by `serve` only: commands that merely read the config (the data
 * directory, say) are not refused for it.
 */
export function refusePlainHttpOffLoopback(config: Pick<ServeConfig, 'host' | 'tls' | 'insecureHttp'>): void {
  if (!servesTls(config) && !config.insecureHttp && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `refusing to serve plain HTTP on ${config.host}, which is not a loopback address: passwords and tokens would cross the network in the clear. Serve HTTPS with --tls self-signed (or --tls-cert FILE --tls-key FILE), or pass --insecure-http when a proxy in front of the registry terminates TLS`,
    );
  }
}

/** Whether the daemon serves HTTPS itself (a proxy in front that does so is the `publicUrl`'s business). */
export function servesTls(config: Pick<ServeConfig, 'tls'>): boolean {
  return config.tls.selfSigned || config.tls.cert !== undefined;
}

/** Whether serving plain HTTP on `host` keeps it on this machine: `localhost` or a loopback address. */
export function isLoopbackHost(host: string): boolean {
  return host.toLowerCase() === 'localhost' || isLoopbackAddress(host);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
