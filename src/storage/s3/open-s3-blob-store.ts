import type { S3Config } from '../../config/config.js';
import { BlobStoreUnavailable } from '../blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';
import { connectS3, describeS3Error } from './s3-client.js';

/** Connects to the configured bucket and checks it can be used before the registry serves anything. */
export async function openS3BlobStore(config: S3Config): Promise<S3BlobStore> {
  const s3 = await connectS3(config);
  const store = new S3BlobStore(s3, {
    bucket: config.bucket,
    prefix: config.prefix,
    signGet: config.redirect ? await presigner(s3.client, config) : undefined,
  });
  try {
    await store.init();
  } catch (error) {
    const where = config.endpoint ? ` at ${config.endpoint}` : '';
    throw new BlobStoreUnavailable(
      `cannot use S3 bucket ${config.bucket}${where}: ${describeS3Error(error)}; check blobs.s3 in the config file and the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)`,
    );
  }
  return store;
}

async function presigner(client: Awaited<ReturnType<typeof connectS3>>['client'], config: S3Config) {
  const [{ getSignedUrl }, { GetObjectCommand }] = await Promise.all([
    import('@aws-sdk/s3-request-presigner'),
    import('@aws-sdk/client-s3'),
  ]);
  const expiresIn = Math.max(1, Math.round(config.redirectExpiry / 1000));
  return (key: string) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: config.bucket, Key: key }), { expiresIn });
}
