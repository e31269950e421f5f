import type { RegistryEvent } from '../events/registry-events.js';

/**
 * The JSON body of a delivery, as documented in the README: every payload has `id` (the event's,
 * the same in every delivery and redelivery of it), `type`, `occurredAt` and `project`.
 */
export function payloadOf(event: RegistryEvent, project: string, images: readonly string[] = []): string {
  const base = { id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), project };
  switch (event.type) {
    case 'push':
      return JSON.stringify({
        ...base,
        repository: event.repository,
        image: event.image,
        name: `${event.project}/${event.repository}/${event.image}`,
        digest: event.digest,
        mediaType: event.mediaType,
        tags: event.tags,
        actor: event.actor,
      });
    case 'delete':
      return JSON.stringify({
        ...base,
        repository: event.repository,
        image: event.image,
        name: `${event.project}/${event.repository}/${event.image}`,
        target: event.target,
        ...(event.digest === undefined ? {} : { digest: event.digest }),
        ...(event.tag === undefined ? {} : { tag: event.tag }),
        actor: event.actor,
      });
    case 'scan-finished':
      return JSON.stringify({
        ...base,
        digest: event.digest,
        images,
        status: event.status,
        ...(event.reason === undefined ? {} : { reason: event.reason }),
        ...(event.summary === undefined
          ? {}
          : {
              summary: {
                critical: event.summary.CRITICAL,
                high: event.summary.HIGH,
                medium: event.summary.MEDIUM,
                low: event.summary.LOW,
                unknown: event.summary.UNKNOWN,
              },
            }),
      });
  }
}
