import type { CleanupItem, CleanupRun } from '../db/cleanup.js';
import type { MetadataStore } from '../db/metadata.js';
import { emitDeleted, type RegistryEvents } from '../events/registry-events.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { evaluatePolicies } from './evaluate.js';

/** Who a delete event names when a cleanup policy deleted the digest. */
export const cleanupActor = 'cleanup-policy';

/**
 * Applies a repository's cleanup policies: evaluates them against what it holds now, and outside dry
 * run deletes each doomed digest through the same transactional delete as the API and `/v2/` (which
 * re-checks index references and immutable tags), then records the run. Deleting only lets digests
 * go: the garbage collector reclaims their bytes later.
 */
export class CleanupService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: RegistryEvents,
    /** Told of each run, for the metrics. */
    private readonly finished: Metrics['cleanupFinished'] = () => {},
  ) {}

  /** Evaluates now; `dryRun` overrides the repository's own setting. Undefined when there is no such repository. */
  async run(
    project: string,
    repository: string,
    options: { dryRun?: boolean } = {},
  ): Promise<CleanupRun | undefined> {
    const record = await this.metadata.repositories.find(project, repository);
    if (!record) return undefined;
    const dryRun = options.dryRun ?? record.cleanupDryRun;
    const startedAt = this.clock.now();
    const state = await this.metadata.cleanup.contents(project, repository);
    const doomed = evaluatePolicies(
      record.cleanupPolicies,
      { ...state, immutableTags: record.immutableTags },
      startedAt,
    );
    const items: CleanupItem[] = [];
    let freedBytes = 0;
    if (dryRun) {
      freedBytes = await this.metadata.usage.freedBy(doomed.map(({ subject }) => subject));
      for (const { subject, policies } of doomed) {
        items.push({ ...itemOf(subject), policies, outcome: 'would-delete' });
      }
    } else {
      for (const { subject, policies } of doomed) {
        // Counted before each delete, with earlier deletes already gone: each byte is counted once,
        // by the delete that lets its last reference go.
        const freed = await this.metadata.usage.freedBy([subject]);
        const outcome = await this.metadata.images.deleteManifest(subject.imageId, subject.digest, {
          keepTagged: record.immutableTags,
        });
        // Anything but `deleted` means the repository changed since the evaluation (a new tag, a new
        // index listing it, or someone deleted it first): the digest is left as it now is.
        if (outcome === 'deleted') {
          freedBytes += freed;
          await emitDeleted(
            this.events,
            { project, repository, image: subject.image },
            { target: 'manifest', digest: subject.digest },
            cleanupActor,
          );
        }
        items.push({ ...itemOf(subject), policies, outcome: outcome === 'deleted' ? 'deleted' : 'kept' });
      }
    }
    const run: CleanupRun = {
      project,
      repository,
      dryRun,
      startedAt,
      finishedAt: this.clock.now(),
      freedBytes,
      items,
    };
    await this.metadata.cleanup.recordRun(run);
    this.finished(run);
    return run;
  }

  /** One scheduled pass over every repository with policies; a failure in one does not stop the others. */
  async runAll(): Promise<void> {
    for (const { project, repository } of await this.metadata.cleanup.repositoriesWithPolicies()) {
      try {
        const run = await this.run(project, repository);
        if (run && run.items.length > 0) {
          this.logger.info(
            {
              repository: `${project}/${repository}`,
              dryRun: run.dryRun,
              digests: run.items.filter((item) => item.outcome !== 'kept').length,
              freedBytes: run.freedBytes,
            },
            run.dryRun
              ? 'cleanup policies would delete digests (dry run)'
              : 'cleanup policies deleted digests',
          );
        }
      } catch (error) {
        this.logger.error({ err: error, repository: `${project}/${repository}` }, 'cleanup run failed');
      }
    }
  }
}

function itemOf(subject: { image: string; digest: string; tags: readonly string[] }) {
  return { image: subject.image, digest: subject.digest, tags: [...subject.tags] };
}
