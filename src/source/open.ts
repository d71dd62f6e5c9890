/** Opening a source from its URI and typed options (the CLI maps its flags onto these). */
import { WeblogError } from '../errors.js';
import { FileSource } from './local-files.js';
import { parseSource, type ObjectSource } from './objects.js';
import { S3Source } from './s3.js';

export interface SourceConfig {
  /** s3://bucket/prefix, file:///dir-or-glob, or a plain path. */
  uri: string;
  /** S3-compatible endpoint; default: AWS. */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Regular expression on object keys. */
  include?: string | undefined;
  order?: 'key' | 'modified' | undefined;
  /** Keys per S3 LIST request (default 1,000). */
  pageSize?: number | undefined;
  /** Default: S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID and their secrets from the environment, else the AWS SDK chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** S3 (and SQS) requests silent this long are given up and retried (default sourceTimeoutDefaults). */
  timeoutMs?: number | undefined;
}

export function openSource(cfg: SourceConfig): ObjectSource {
  if (!cfg.uri) throw new WeblogError('CONFIG_INVALID', '--source is required: s3://bucket/prefix or file:///path');
  const src = parseSource(cfg.uri);
  let include: RegExp | undefined;
  if (cfg.include) {
    try {
      include = new RegExp(cfg.include);
    } catch (err) {
      throw new WeblogError('CONFIG_INVALID', `--include: not a regular expression: ${(err as Error).message}`);
    }
  }
  const order = cfg.order ?? 'key';
  if (order !== 'key' && order !== 'modified') throw new WeblogError('CONFIG_INVALID', `--order: expected key or modified, got "${String(order)}"`);
  if (src.kind === 'file') return new FileSource({ path: src.path, include, order });
  const key = process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID;
  const secret = process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY;
  return new S3Source({
    bucket: src.bucket,
    prefix: src.prefix,
    endpoint: cfg.endpoint,
    region: cfg.region ?? 'us-east-1',
    credentials: cfg.credentials ?? (key && secret ? { accessKeyId: key, secretAccessKey: secret } : undefined),
    include,
    order,
    pageSize: cfg.pageSize,
    timeoutMs: cfg.timeoutMs,
  });
}
