import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, inTerminal, mistrive, mistriveJson, signIn } from '../support/cli.js';
import {
  type BuiltImage,
  buildImage,
  buildIndex,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushLayout, runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/**
 * `images` and `tags` as a person meets them: deleting a digest other tags point at, short digests
 * as input, sizes and platform images in lists, tables that fit the terminal, a mistyped command,
 * and refusals that say what to do. The built CLI against `mistrive serve`, on a terminal and piped.
 */

const noColor = { NO_COLOR: '1' };

async function layoutOf(dir: string, tag: string, size: number) {
  const image = buildImage([await tarGzLayer({ 'bin/app': randomBytes(size) })]);
  await writeOciLayout(dir, tag, image);
  return image;
}

describe('images and tags, end to end', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;
  let viewer: CliHome;
  let web: BuiltImage;
  let other: BuiltImage;
  let amd64: BuiltImage;
  let arm64: BuiltImage;
  let indexDigest: string;

  beforeAll(async () => {
    work = await tempDir('mistrive-cli-images-');
    daemon = await startDaemon(join(work.path, 'data'), ['--no-auto-create-repositories']);
    admin = await cliHome();
    viewer = await cliHome();
    await signIn(admin, daemon.url, 'admin', testAdminPassword);
    await mistriveJson(admin, ['projects', 'create', 'shop']);
    await mistriveJson(admin, ['repos', 'create', 'apps', '--project', 'shop']);
    await mistriveJson(admin, ['repos', 'create', 'locked', '--project', 'shop', '--immutable-tags']);
    await mistriveJson(admin, ['users', 'create', 'vic@example.com', '--password-stdin'], {
      input: 'vic-password-1',
    });
    await mistriveJson(admin, [
      'repos',
      'add-iam-policy-binding',
      'shop/apps',
      '--member',
      'user:vic@example.com',
      '--role',
      'viewer',
    ]);
    await signIn(viewer, daemon.url, 'vic@example.com', 'vic-password-1');

    const layouts = join(work.path, 'layouts');
    web = await layoutOf(join(layouts, 'web'), 'v1', 20_000);
    await pushLayout(daemon.url, join(layouts, 'web'), 'v1', 'shop/apps/web');
    other = await layoutOf(join(layouts, 'other'), 'v2', 10_000);
    await pushLayout(daemon.url, join(layouts, 'other'), 'v2', 'shop/apps/web');
    await mistriveJson(admin, ['tags', 'add', 'shop/apps/web:v1', 'stable', 'latest']);
    await pushLayout(daemon.url, join(layouts, 'web'), 'v1', 'shop/locked/app');

    amd64 = buildImage([await tarGzLayer({ 'bin/app': randomBytes(30_000) })]);
    arm64 = buildImage([await tarGzLayer({ 'bin/app': randomBytes(40_000) })], {
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
    });
    const index = buildIndex([
      { image: amd64, platform: { architecture: 'amd64', os: 'linux' } },
      { image: arm64, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ]);
    indexDigest = index.index.descriptor.digest;
    await writeOciLayout(join(layouts, 'multi'), 'v1', index);
    await pushLayout(daemon.url, join(layouts, 'multi'), 'v1', 'shop/apps/multi', { all: true });
    // Four skopeo pushes and a dozen CLI runs: on a busy machine this takes more than the default minute.
  }, 180_000);
  afterAll(async () => {
    await daemon?.stop();
    for (const home of [admin, viewer]) await home?.remove();
    await work?.remove();
  });

  describe('images delete IMAGE:TAG', () => {
    it('refuses when other tags point at the digest, saying which and what to do instead', async () => {
      const refused = await mistrive(admin, ['images', 'delete', 'shop/apps/web:v1', '--yes']);
      expect(refused.exitCode).toBe(6);
      expect(refused.stderr).toBe(
        `Error: shop/apps/web:v1 is ${web.manifest.descriptor.digest}, which tags latest, stable also point at: deleting the digest deletes those tags too\n` +
          'Hint: add --delete-tags to delete the digest with all its tags (latest, stable, v1), or remove one tag with `mistrive tags delete shop/apps/web:v1`\n',
      );
      const byDigest = await mistrive(admin, [
        'images',
        'delete',
        `shop/apps/web@${web.manifest.descriptor.digest}`,
        '--yes',
      ]);
      expect(byDigest.exitCode).toBe(6);
      expect(byDigest.stderr).toContain('is tagged latest, stable, v1');
      const tags = await mistriveJson<{ tags: { name: string }[] }>(admin, ['tags', 'list', 'shop/apps/web']);
      expect(tags.tags.map((tag) => tag.name)).toEqual(['latest', 'stable', 'v1', 'v2']);
    });

    it('names every tag that goes in the confirmation and the result, with --delete-tags', async () => {
      const digest = web.manifest.descriptor.digest;
      const asked = await inTerminal(admin, ['images', 'delete', 'shop/apps/web:v1', '--delete-tags'], {
        env: noColor,
        typed: 'n\n',
      });
      expect(asked.screen).toContain(`Delete shop/apps/web@${digest} and tags latest, stable, v1? [y/N]`);
      expect(asked.exitCode).toBe(13);

      const deleted = await inTerminal(admin, ['images', 'delete', 'shop/apps/web:v1', '--delete-tags'], {
        env: noColor,
        typed: 'y\n',
      });
      expect(deleted.exitCode, deleted.screen).toBe(0);
      expect(deleted.screen).toContain(`✓ Deleted shop/apps/web@${digest} and tags latest, stable, v1.`);
      const tags = await mistriveJson<{ tags: { name: string }[] }>(admin, ['tags', 'list', 'shop/apps/web']);
      expect(tags.tags.map((tag) => tag.name)).toEqual(['v2']);
    });

    it('deletes a digest only its own tag points at, and says so in --json', async () => {
      const result = await mistriveJson(admin, ['images', 'delete', 'shop/apps/web:v2']);
      expect(result).toEqual({
        reference: 'shop/apps/web:v2',
        deleted: [{ digest: other.manifest.descriptor.digest, tags: ['v2'] }],
        tags: ['v2'],
      });
    });
  });

  describe('short digests', () => {
    it('accepts the prefix a list shows wherever a digest is taken', async () => {
      const full = amd64.manifest.descriptor.digest;
      const screen = (await inTerminal(admin, ['images', 'list', 'shop/apps'], { env: noColor })).screen;
      const shown = screen.match(new RegExp(`${full.slice(0, 19)}\\S*`))?.[0];
      expect(shown).toBe(full.slice(0, 19));

      const described = await mistriveJson<{ digests: { digest: string }[] }>(admin, [
        'images',
        'describe',
        `shop/apps/multi@${shown}`,
      ]);
      expect(described.digests.map((digest) => digest.digest)).toEqual([full]);
      const tagged = await mistriveJson<{ digest: string }>(admin, [
        'tags',
        'add',
        `shop/apps/multi@${shown}`,
        'amd64',
      ]);
      expect(tagged.digest).toBe(full);

      const unknown = await mistrive(admin, ['images', 'describe', 'shop/apps/multi@sha256:000000000000']);
      expect(unknown.exitCode).toBe(5);
      expect(unknown.stderr).toContain('Error: no digest of shop/apps/multi starts with sha256:000000000000');
      const tooShort = await mistrive(admin, ['images', 'describe', `shop/apps/multi@${full.slice(0, 15)}`]);
      expect(tooShort.exitCode).toBe(2);
      expect(tooShort.stderr).toContain('a unique prefix of at least 12');
    });
  });

  describe('images list', () => {
    it('shows each digest with its size, and platform images under their index with their platform', async () => {
      const sizeOf = (image: BuiltImage) =>
        image.manifest.bytes.length +
        image.config.bytes.length +
        image.layers.reduce((sum, layer) => sum + layer.bytes.length, 0);
      const piped = await mistrive(admin, ['images', 'list', 'shop/apps']);
      const rows = piped.stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([image]) => image === 'shop/apps/multi');
      const indexSize = rows[0]?.[4];
      const shown = rows.map(([image, digest, tags, , size, platform, index]) => [
        image,
        digest,
        tags,
        size,
        platform,
        index,
      ]);
      // The index first, then its platform images (in digest order).
      expect(shown[0]).toEqual(['shop/apps/multi', indexDigest, 'v1', indexSize, '', '']);
      expect(shown.slice(1).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual(
        [
          [
            'shop/apps/multi',
            amd64.manifest.descriptor.digest,
            'amd64',
            String(sizeOf(amd64)),
            'linux/amd64',
            indexDigest,
          ],
          [
            'shop/apps/multi',
            arm64.manifest.descriptor.digest,
            '',
            String(sizeOf(arm64)),
            'linux/arm64/v8',
            indexDigest,
          ],
        ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      );
      expect(Number(indexSize)).toBeGreaterThan(sizeOf(amd64) + sizeOf(arm64));

      const { screen } = await inTerminal(admin, ['images', 'list', 'shop/apps', '--untagged'], {
        env: noColor,
      });
      const lines = screen.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^IMAGE +DIGEST +TAGS +CREATED +SIZE +PLATFORM +INDEX$/);
      expect(lines[1]).toMatch(
        new RegExp(
          `^shop/apps/multi +${arm64.manifest.descriptor.digest.slice(0, 19)} +\\S+ \\S+ UTC +\\d+\\.\\d kB +linux/arm64/v8 +${indexDigest.slice(0, 19)}$`,
        ),
      );
    });
  });

  describe('images describe', () => {
    it('fits an 80-column terminal, and stays complete when piped', async () => {
      const { exitCode, screen } = await inTerminal(admin, ['images', 'describe', 'shop/apps/multi'], {
        env: noColor,
        columns: 80,
      });
      expect(exitCode, screen).toBe(0);
      const lines = screen.trimEnd().split('\n');
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
      expect(lines[4]).toMatch(/^DIGEST +TAGS +SIZE +CREATED +TYPE +PLATFORMS +VULNS$/);
      expect(screen).toContain(indexDigest.slice(0, 19));
      expect(screen).toContain('linux/arm64/v8');
      // A wide terminal gets one line per digest.
      const wide = await inTerminal(admin, ['images', 'describe', 'shop/apps/multi'], {
        env: noColor,
        columns: 200,
      });
      const indexLine = wide.screen.split('\n').find((line) => line.startsWith(indexDigest.slice(0, 19)));
      expect(indexLine).toMatch(
        / v1 +\d+\.\d kB +\S+ \S+ UTC +OCI index +linux\/amd64, linux\/arm64\/v8 +not scanned$/,
      );

      const piped = await mistrive(admin, ['images', 'describe', 'shop/apps/multi']);
      const indexRow = piped.stdout.split('\n').find((line) => line.startsWith(indexDigest));
      expect(indexRow?.split('\t')).toEqual([
        indexDigest,
        'v1',
        expect.stringMatching(/^\d+$/),
        expect.any(String),
        'application/vnd.oci.image.index.v1+json',
        'linux/amd64,linux/arm64/v8',
        'not scanned',
      ]);
    });
  });

  describe('a mistyped command', () => {
    it('suggests the closest command with the arguments kept whole', async () => {
      const piped = await mistrive(admin, ['images', 'describ', 'shop/apps/multi:v1']);
      expect(piped.exitCode).toBe(2);
      expect(piped.stderr).toContain('`mistrive images describ` is not a mistrive command.');
      expect(piped.stderr).toContain('Did you mean `mistrive images describe shop/apps/multi:v1`?');
      // A command that takes no argument, given one, is not called unknown nor offered as a fix.
      const extra = await mistrive(admin, ['projects', 'list', 'shop']);
      expect(extra.exitCode).toBe(2);
      expect(extra.stderr).toContain('Error: unexpected argument: shop');
      expect(extra.stderr).not.toContain('not a mistrive command');
      expect(extra.stderr).not.toContain('Did you mean');
    });

    it('offers to run a read command on a terminal, and runs it with the same arguments', async () => {
      const { exitCode, screen } = await inTerminal(admin, ['images', 'lst', 'shop/apps/multi:v1'], {
        env: noColor,
        typed: 'n\n',
      });
      expect(screen).toContain('Did you mean `mistrive images list shop/apps/multi:v1`? Run it? [y/N]');
      expect(screen).not.toContain('scan');
      expect(exitCode).toBe(2);

      const ran = await inTerminal(admin, ['tags', 'lst', 'shop/apps/multi'], { env: noColor, typed: 'y\n' });
      expect(ran.exitCode, ran.screen).toBe(0);
      expect(ran.screen).toMatch(/TAG +DIGEST +UPDATED/);
      expect(ran.screen).toMatch(/\nv1 +sha256:/);
    });

    it('only names a command that changes something, without offering to run it', async () => {
      const { exitCode, screen } = await inTerminal(admin, ['images', 'scn', 'shop/apps/multi:v1'], {
        env: noColor,
        typed: 'y\n',
      });
      expect(screen).toContain('Did you mean `mistrive images scan shop/apps/multi:v1`?');
      expect(screen).not.toContain('[y/N]');
      expect(exitCode).toBe(2);
    });
  });

  describe('refusals and wording', () => {
    it('tells a viewer whom to ask for the role, not to run a command it may not run', async () => {
      const denied = await mistrive(viewer, ['images', 'delete', 'shop/apps/multi:v1', '--yes']);
      expect(denied.exitCode).toBe(4);
      expect(denied.stderr).toBe(
        'Error: access forbidden: this needs the owner role on repository shop/apps\n' +
          'Hint: ask an owner of repository shop/apps or of project shop (or the instance administrator) to grant you the owner role there\n',
      );
    });

    it('points an immutable-tags refusal at the setting', async () => {
      const layouts = join(work.path, 'layouts');
      await layoutOf(join(layouts, 'locked2'), 'v2', 5_000);
      await pushLayout(daemon.url, join(layouts, 'locked2'), 'v2', 'shop/locked/app');
      const moved = await mistrive(admin, ['tags', 'add', 'shop/locked/app:v2', 'v1']);
      expect(moved.exitCode).toBe(4);
      expect(moved.stderr).toContain('immutable tags');
      expect(moved.stderr).toContain(
        'Hint: tags in repository shop/locked are immutable (its immutable-tags setting): use a new tag, or have an owner turn the setting off with `mistrive repos update locked --project shop --no-immutable-tags`\n',
      );
      expect(moved.stderr).not.toContain('role');
    });

    it('shows a registry client the role a push needs and the repository', async () => {
      const dir = join(work.path, 'layouts', 'vic');
      await layoutOf(dir, 'v1', 1_000);
      const push = await runSkopeo([
        'copy',
        '--dest-tls-verify=false',
        '--retry-times=0',
        '--dest-creds',
        'vic@example.com:vic-password-1',
        `oci:${dir}:v1`,
        `docker://${new URL(daemon.url).host}/shop/apps/vic:v1`,
      ]).done;
      expect(push.exitCode).not.toBe(0);
      expect(push.all).toContain(
        'denied: access forbidden: pushing to shop/apps/vic needs the editor role on repository shop/apps (you have viewer)',
      );
    });

    it('says what is missing or wrong in the CLI’s words', async () => {
      const missing = await mistrive(admin, ['images', 'list']);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toMatch(
        /^Error: missing argument REPOSITORY: ID \(with --project\), PROJECT\/REPOSITORY or HOST\/PROJECT\/REPOSITORY\n/,
      );
      const badTag = await mistrive(admin, ['tags', 'add', 'shop/apps/multi:v1', 'bad!tag']);
      expect(badTag.exitCode).toBe(2);
      expect(badTag.stderr).toMatch(/^Error: "bad!tag" is not a tag: a tag is up to 128 letters/);
      const badRepository = await mistrive(admin, ['images', 'list', 'shop/Apps']);
      expect(badRepository.exitCode).toBe(2);
      expect(badRepository.stderr).toMatch(/^Error: invalid repository ID: must be/);
      expect(badRepository.stderr).not.toContain('parameter');
      const badProject = await mistrive(admin, ['projects', 'create', 'Bad_Id']);
      expect(badProject.stderr).toMatch(/^Error: invalid project ID: must be/);
    });
  });
});
