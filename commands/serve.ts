import { Command, Flags } from '@oclif/core';
import {
  ConfigError,
  isLoopbackHost,
  loadServeConfig,
  refusePlainHttpOffLoopback,
  servesTls,
} from '../src/config/config.js';
import { redactUrl } from '../src/db/postgres/database.js';
import { startRegistry } from '../src/server/app.js';
import { guardProcess } from '../src/server/process-guard.js';
import { adminPasswordHelp, describeStartupError } from '../src/server/startup-errors.js';
import { trustInstructions } from '../src/server/tls/client-trust.js';

export default class Serve extends Command {
  static override summary = 'Run the registry daemon.';
  static override description =
    'Serves the OCI Distribution API (Docker Registry API v2) with embedded storage: blobs on the filesystem, metadata in SQLite, both under the data directory; metadata on PostgreSQL instead when the config file sets metadata.postgres or MISTRIVE_POSTGRES_URL is set. Binds to loopback unless told otherwise; stops gracefully on SIGINT or SIGTERM. Serves HTTPS with a given certificate (--tls-cert, --tls-key; reloaded on SIGHUP) or with a private CA it makes and keeps under the data directory (--tls self-signed). On an address that is not loopback, plain HTTP is refused unless --insecure-http is given.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 5001 --data-dir ./registry-data',
    '<%= config.bin %> serve --config /etc/mistrive/serve.yaml',
    '<%= config.bin %> serve --host 0.0.0.0 --tls self-signed --tls-names registry.example.com',
    '<%= config.bin %> serve --host 0.0.0.0 --tls-cert /etc/mistrive/tls.crt --tls-key /etc/mistrive/tls.key',
  ];

  static override flags = {
    host: Flags.string({ description: 'address to listen on [default: 127.0.0.1]' }),
    port: Flags.integer({
      description: 'port to listen on (0 picks a free one) [default: 5000]',
      min: 0,
      max: 65535,
    }),
    'data-dir': Flags.string({
      description: 'where blobs and metadata live [default: $XDG_DATA_HOME/mistrive]',
    }),
    config: Flags.file({ description: 'YAML or JSON configuration file', exists: true }),
    'log-level': Flags.option({
      options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    })(),
    'metrics-address': Flags.string({
      description:
        'also serve /metrics, /healthz and /readyz, without credentials, on this HOST:PORT (keep it private)',
    }),
    'auto-create-repositories': Flags.boolean({
      description: 'create missing projects and repositories on first push (throwaway local registries)',
      allowNo: true,
    }),
    tls: Flags.option({
      options: ['self-signed'] as const,
      description: 'serve HTTPS with a private CA and certificate made and kept in DATA/tls/',
    })(),
    'tls-cert': Flags.string({
      description: 'serve HTTPS with this certificate (PEM, chain after it); reloaded on SIGHUP',
    }),
    'tls-key': Flags.string({ description: "the certificate's private key (PEM)" }),
    'tls-names': Flags.string({
      description:
        'names and addresses for the self-signed certificate, comma-separated; loopback is always added [default: the host name and the bound addresses]',
      delimiter: ',',
      multiple: true,
    }),
    'insecure-http': Flags.boolean({
      description: 'allow plain HTTP on an address that is not loopback (a proxy in front terminates TLS)',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    let config: ReturnType<typeof loadServeConfig>;
    try {
      config = loadServeConfig(flags.config, {
        host: flags.host,
        port: flags.port,
        dataDir: flags['data-dir'],
        logLevel: flags['log-level'],
        autoCreateRepositories: flags['auto-create-repositories'],
        insecureHttp: flags['insecure-http'] || undefined,
        tls: {
          selfSigned: flags.tls === 'self-signed' ? true : undefined,
          cert: flags['tls-cert'],
          key: flags['tls-key'],
          names: flags['tls-names'],
        },
        ...(flags['metrics-address'] === undefined ? {} : { metrics: { address: flags['metrics-address'] } }),
      });
      refusePlainHttpOffLoopback(config);
    } catch (error) {
      if (error instanceof ConfigError) this.error(error.message, { exit: 2 });
      throw error;
    }
    let registry: Awaited<ReturnType<typeof startRegistry>>;
    try {
      registry = await startRegistry(config);
    } catch (error) {
      const message = describeStartupError(error, config);
      if (message) this.error(`${message}\n${adminPasswordHelp(config.dataDir)}`, { exit: 1 });
      throw error;
    }
    if (registry.admin.outcome === 'created' && registry.admin.generated) {
      // Shown once, on stdout and never in the log: it is stored only as a hash.
      this.log(`Created the administrator account: login "admin", password ${registry.admin.password}`);
      this.log(
        `Keep it safe: it is not shown again (set MISTRIVE_ADMIN_PASSWORD to choose it instead, or run \`mistrive admin reset-password --data-dir ${config.dataDir}\` with the daemon stopped to replace it).`,
      );
    }
    guardProcess(registry.context.logger);
    if (!servesTls(config) && !isLoopbackHost(config.host)) {
      this.warn(
        `serving plain HTTP on ${config.host} (--insecure-http): passwords and tokens cross the network in the clear unless a proxy in front terminates TLS`,
      );
    }
    const metadata = config.metadata.postgres
      ? `, metadata in PostgreSQL at ${redactUrl(config.metadata.postgres)}`
      : '';
    const metrics = registry.metricsUrl ? `, metrics on ${registry.metricsUrl}/metrics` : '';
    this.log(
      `Mistrive registry listening on ${registry.urls.join(', ')} (data in ${config.dataDir}${metadata}${metrics})`,
    );
    if (registry.tls?.selfSigned) {
      const port = new URL(registry.url).port;
      for (const line of trustInstructions(registry.tls.selfSigned, Number(port))) this.log(line);
    }
    if (registry.tls) {
      // Reload the certificate and key (renewed or replaced on disk) without dropping connections.
      process.on('SIGHUP', () => void registry.reloadTls());
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        registry.context.logger.info({ signal }, 'shutting down');
        registry.close().then(resolve, resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }
}
