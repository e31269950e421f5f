import { randomUUID } from 'node:crypto';

export interface IdGenerator {
  /** An unguessable identifier, safe to hand to clients (upload sessions). */
  next(): string;
}

export const randomIds: IdGenerator = { next: () => randomUUID() };
