import { z } from 'zod';
import { durationProblem, parseDuration } from '../lib/durations.js';

/**
 * Cleanup policies, in the shape hosted artifact registries use for their policy files: a list of
 * named `Delete` or `Keep` rules, each with a `condition` or (keep only) `mostRecentVersions`.
 * Validated strictly here, at the edge; the evaluator trusts what passes.
 */

export const maxPolicies = 50;

export const durationText = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, {
    error: (issue) => durationProblem(String(issue.input)),
  })
  .describe('A duration: 30s, 15m, 24h, 7d');

const prefixes = (what: string) =>
  z
    .array(z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'))
    .min(1, 'must name at least one prefix')
    .max(100, 'must name at most 100 prefixes')
    .describe(what);

/** Accepts the lowercase spelling and the uppercase one other registries' policy files use. */
const tagStates = ['tagged', 'untagged', 'any'] as const;
export type TagState = (typeof tagStates)[number];
const tagState = z
  .enum([...tagStates, 'TAGGED', 'UNTAGGED', 'ANY'])
  .describe('tagged: has at least one tag; untagged: has none; any: either');

const conditionShape = z
  .object({
    tagState: tagState.optional(),
    tagPrefixes: prefixes(
      'Matches a digest with a tag starting with one of these (implies tagged)',
    ).optional(),
    imageNamePrefixes: prefixes(
      'Matches a digest of an image whose name inside the repository starts with one of these',
    ).optional(),
    olderThan: durationText.describe('Matches a digest pushed longer ago than this').optional(),
    newerThan: durationText.describe('Matches a digest pushed more recently than this').optional(),
  })
  .strict();

const mostRecentVersionsShape = z
  .object({
    keepCount: z.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000'),
    imageNamePrefixes: prefixes(
      'Only images whose name inside the repository starts with one of these (each keeps its own count)',
    ).optional(),
  })
  .strict();

const policyShape = z
  .object({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
        'must be 1 to 63 letters, digits, dots, hyphens and underscores, starting with a letter or digit',
      ),
    action: z.object({ type: z.enum(['Delete', 'Keep']) }).strict(),
    condition: conditionShape.optional(),
    mostRecentVersions: mostRecentVersionsShape.optional(),
  })
  .strict();

type PolicyInput = z.output<typeof policyShape>;

function policyProblems(policy: PolicyInput): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const { condition, mostRecentVersions } = policy;
  if (policy.action.type === 'Delete') {
    if (mostRecentVersions) {
      problems.push({
        path: ['mostRecentVersions'],
        message: 'only a Keep policy can keep the most recent versions',
      });
    }
    if (!condition || Object.keys(condition).length === 0) {
      problems.push({
        path: ['condition'],
        message:
          'a Delete policy needs a condition (tagState, tagPrefixes, imageNamePrefixes, olderThan or newerThan)',
      });
    }
  } else if ((condition === undefined) === (mostRecentVersions === undefined)) {
    problems.push({
      path: [condition ? 'mostRecentVersions' : 'condition'],
      message: 'a Keep policy has either a condition or mostRecentVersions, not both and not neither',
    });
  } else if (condition && Object.keys(condition).length === 0) {
    problems.push({ path: ['condition'], message: 'an empty condition would keep everything' });
  }
  if (
    condition?.tagPrefixes &&
    condition.tagState !== undefined &&
    normalTagState(condition.tagState) !== 'tagged'
  ) {
    problems.push({
      path: ['condition', 'tagState'],
      message: 'tagPrefixes only match tagged digests: use tagState "tagged"',
    });
  }
  const older = condition?.olderThan === undefined ? undefined : parseDuration(condition.olderThan);
  const newer = condition?.newerThan === undefined ? undefined : parseDuration(condition.newerThan);
  if (older !== undefined && newer !== undefined && older >= newer) {
    problems.push({
      path: ['condition', 'newerThan'],
      message: `no digest is both older than ${condition?.olderThan} and newer than ${condition?.newerThan}`,
    });
  }
  return problems;
}

/** The policies of one repository, as a policy file or the API carries them. */
export const cleanupPolicies = z
  .array(policyShape)
  .max(maxPolicies, `a repository has at most ${maxPolicies} cleanup policies`)
  .superRefine((policies, context) => {
    const seen = new Set<string>();
    policies.forEach((policy, index) => {
      if (seen.has(policy.name)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `"${policy.name}" names two policies`,
        });
      }
      seen.add(policy.name);
      for (const problem of policyProblems(policy)) {
        context.addIssue({ code: 'custom', path: [index, ...problem.path], message: problem.message });
      }
    });
  })
  .describe(
    'Delete and Keep rules; a digest is deleted when a Delete policy matches it and no Keep policy does',
  );

export type CleanupPolicies = z.output<typeof cleanupPolicies>;
export type CleanupPolicy = CleanupPolicies[number];
export type CleanupCondition = NonNullable<CleanupPolicy['condition']>;

export function normalTagState(state: CleanupCondition['tagState']): TagState {
  return (state?.toLowerCase() ?? 'any') as TagState;
}

/** How a stored policy list reads back: tag states in one spelling, so files round-trip. */
export function normalizePolicies(policies: CleanupPolicies): CleanupPolicies {
  return policies.map((policy) =>
    policy.condition?.tagState
      ? { ...policy, condition: { ...policy.condition, tagState: normalTagState(policy.condition.tagState) } }
      : policy,
  );
}
