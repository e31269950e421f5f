import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { type ApiClient, adminClient, createProject, createRepository } from '../support/api-client.js';
import { corruptBlobFiles } from '../support/data-dir.js';
import { imageManifest, randomBlob, sha256, types } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
const name = 'pa/r1/rc';
const imageApi = '/api/v1/projects/pa/repositories/r1/images/rc';

beforeAll(async () => {
  registry = await startTestRegistry();
  admin = await adminClient(registry.url);
  await createProject(admin, 'pa');
  await createRepository(admin, 'pa', 'r1');
});
afterAll(() => registry.close());

/** What a push step answered: the statuses and codes the client saw. */
interface Answer {
  readonly step: string;
  readonly status: number;
  readonly code: string | undefined;
}

async function answerOf(step: string, response: Response): Promise<Answer> {
  const text = await response.text();
  const code =
    response.status >= 400 ? (JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code : undefined;
  return { step, status: response.status, code };
}

/**
 * One image push the way clients do it, each blob by POST then PUT (so a session is open while the
 * delete runs) and the manifest last. It stops at the first refusal, as a client would.
 */
async function pushOnce(answers: Answer[], tag: string): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
  const layer = randomBlob(4096);
  for (const bytes of [config, layer]) {
    const start = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    answers.push(await answerOf('start', start));
    if (start.status !== 202) return;
    const location = new URL(start.headers.get('location') ?? '', registry.url);
    location.searchParams.set('digest', sha256(bytes));
    const put = await adminFetch(location, { method: 'PUT', body: bytes });
    answers.push(await answerOf('finish', put));
    if (put.status !== 201) return;
  }
  const manifest = imageManifest({ digest: sha256(config), size: config.length }, [
    { digest: sha256(layer), size: layer.length },
  ]);
  const put = await adminFetch(`${registry.url}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': types.ociManifest },
    body: manifest,
  });
  answers.push(await answerOf('manifest', put));
}

describe('deleting an image while pushes to it run', () => {
  it('answers each push with the spec 404 or lets it win, never a 500, and the data stays consistent', async () => {
    const answers: Answer[] = [];
    const deletes: number[] = [];
    const until = Date.now() + 3000;
    const pushLoop = async (loop: number) => {
      for (let round = 0; Date.now() < until; round++) await pushOnce(answers, `l${loop}-${round}`);
    };
    const deleteLoop = async () => {
      while (Date.now() < until) {
        const response = await adminFetch(`${registry.url}${imageApi}`, { method: 'DELETE' });
        await response.arrayBuffer();
        deletes.push(response.status);
      }
    };
    await Promise.all([pushLoop(0), pushLoop(1), pushLoop(2), pushLoop(3), deleteLoop()]);

    const refused = answers.filter((answer) => answer.status >= 400);
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    for (const answer of refused) {
      expect(['NAME_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']).toContain(answer.code);
      expect(answer.status).toBe(404);
    }
    expect(deletes.every((status) => status === 204 || status === 404)).toBe(true);
    // The race did happen: some deletes removed an image that pushes were filling.
    expect(deletes.filter((status) => status === 204).length).toBeGreaterThan(0);

    // Whatever survived is whole: a final push works, and every stored blob hashes to its name.
    const finalAnswers: Answer[] = [];
    await pushOnce(finalAnswers, 'final');
    expect(finalAnswers.every((answer) => answer.status < 300)).toBe(true);
    const tags = await adminFetch(`${registry.url}/v2/${name}/tags/list`);
    expect(((await tags.json()) as { tags: string[] }).tags).toContain('final');
    expect(await corruptBlobFiles(registry.dataDir)).toEqual([]);
  });
});
