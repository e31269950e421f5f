/**
 * Where the S3 store keeps each kind of object, drawn once:
 *   PREFIX/blobs/ALGORITHM/HEX[0:2]/HEX        committed blobs and manifests (content-addressed)
 *   PREFIX/uploads/ID/started                  an upload session's marker, written when it starts
 *   PREFIX/uploads/ID/parts/REVERSED-OFFSET    the bytes of one append (or one piece of a long one)
 *   PREFIX/quarantine/ALGORITHM-HEX            blobs whose bytes no longer match their digest
 *
 * A part's key spells its offset counted down from the largest offset the store takes, zero-padded,
 * so S3's ascending listing names the LAST part first: one listing of one key gives an upload's size,
 * wherever the upload was started and however many parts it holds.
 */
export class S3Layout {
  constructor(private readonly prefix: string) {}

  blobKey(digest: string): string {
    const [algorithm = '', hex = ''] = digest.split(':');
    return `${this.prefix}blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  get blobsPrefix(): string {
    return `${this.prefix}blobs/`;
  }

  /** The digest a blob key spells, or undefined for a key that is not a blob's. */
  digestOf(key: string): string | undefined {
    const match = /^([a-z0-9]+)\/([0-9a-f]{2})\/([0-9a-f]+)$/.exec(key.slice(this.blobsPrefix.length));
    if (!key.startsWith(this.blobsPrefix) || !match?.[3]?.startsWith(match[2] ?? '')) return undefined;
    return `${match[1]}:${match[3]}`;
  }

  get uploadsPrefix(): string {
    return `${this.prefix}uploads/`;
  }

  uploadPrefix(id: string): string {
    return `${this.uploadsPrefix}${id}/`;
  }

  /** The upload ID a key under `uploads/` belongs to. */
  uploadIdOf(key: string): string | undefined {
    const rest = key.slice(this.uploadsPrefix.length);
    const slash = rest.indexOf('/');
    return key.startsWith(this.uploadsPrefix) && slash > 0 ? rest.slice(0, slash) : undefined;
  }

  startedKey(id: string): string {
    return `${this.uploadPrefix(id)}started`;
  }

  partKey(id: string, offset: number): string {
    return `${this.uploadPrefix(id)}parts/${String(maxOffset - offset).padStart(offsetDigits, '0')}`;
  }

  /** The offset a part key spells, or undefined for another key of the upload (its marker). */
  partOffset(id: string, key: string): number | undefined {
    const partsPrefix = `${this.uploadPrefix(id)}parts/`;
    if (!key.startsWith(partsPrefix)) return undefined;
    const reversed = Number(key.slice(partsPrefix.length));
    return Number.isSafeInteger(reversed) ? maxOffset - reversed : undefined;
  }

  get quarantinePrefix(): string {
    return `${this.prefix}quarantine/`;
  }

  quarantineKey(digest: string): string {
    return `${this.quarantinePrefix}${digest.replace(':', '-')}`;
  }
}

/** 15 digits: offsets up to 1 PB, within JavaScript's safe integers (16 digits would not be). */
const offsetDigits = 15;
const maxOffset = 10 ** offsetDigits - 1;
