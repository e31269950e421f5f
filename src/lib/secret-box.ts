import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const algorithm = 'aes-256-gcm';
const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
const version = 'v1';

/**
 * Seals secrets the daemon must be able to read back (an upstream registry's password) with the
 * instance's secret key, AES-256-GCM. The key is a file created on first start beside the token
 * signing key, readable only by the daemon's user: the metadata store alone (a database dump, a
 * backup) never holds a usable secret.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static async loadOrCreate(path: string): Promise<SecretBox> {
    try {
      const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
      if (key.length !== keyBytes) throw new Error(`${path} does not hold a ${keyBytes}-byte key`);
      await chmod(path, 0o600);
      return new SecretBox(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      await writeFile(path, randomBytes(keyBytes).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another instance sharing the data directory created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return SecretBox.loadOrCreate(path);
  }

  /** For tests and tools that hold the key already. */
  static withKey(key: Buffer): SecretBox {
    if (key.length !== keyBytes) throw new Error(`a secret key is ${keyBytes} bytes`);
    return new SecretBox(key);
  }

  seal(secret: string): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv(algorithm, this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  /** The secret; throws when it was sealed with another key or altered. */
  open(sealed: string): string {
    const [prefix, body = ''] = sealed.split(':');
    if (prefix !== version) throw new Error('the sealed secret has an unknown format');
    const bytes = Buffer.from(body, 'base64');
    const decipher = createDecipheriv(algorithm, this.key, bytes.subarray(0, ivBytes));
    decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([decipher.update(bytes.subarray(ivBytes + tagBytes)), decipher.final()]).toString(
      'utf8',
    );
  }
}
