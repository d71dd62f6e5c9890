/** `weblog parse`: access-log lines in, one JSON record per line out. */
import { createEnricher } from '../../enrich/index.js';
import { maskReject } from '../../enrich/privacy.js';
import { WeblogError } from '../../errors.js';
import { createParser } from '../../parse/scan.js';
import { openLogFile } from '../../source/file.js';
import { splitLines } from '../../source/lines.js';
import { defineCommand } from '../options.js';
import { recordJson, rejectJson, write } from '../output.js';
import { enrichConfig, enrichOptions, formatOption } from '../option-groups.js';

export const parseCommand = defineCommand({
  name: 'parse',
  summary: 'Parse (and enrich) access-log lines into JSON records.',
  usage: 'weblog parse [options] [FILE ...]   (no FILE or "-": stdin; .gz files are decompressed)',
  options: [
    formatOption,
    { name: 'enrich', type: 'boolean', default: true, description: 'add IP, user-agent, GeoIP and id fields (--no-enrich to skip)' },
    ...enrichOptions,
    {
      name: 'max-line-bytes',
      type: 'number',
      default: 1048576,
      min: 256,
      max: 268435456,
      unit: 'bytes',
      description: 'longer lines are rejected as line_too_long',
    },
  ],
  notes:
    'Accepted lines go to stdout as JSON, rejects to stderr as {"line","reason","detail"},\nthen a summary line on stderr. Exit 0 unless an input cannot be read.',
  async run(opts, files) {
    const parse = createParser(String(opts.format));
    if (opts.privacy === true && !opts.enrich) throw new WeblogError('CONFIG_INVALID', '--privacy anonymises while enriching: leave out --no-enrich');
    const enrich = enrichConfig(opts);
    const enricher = opts.enrich ? await createEnricher(enrich) : undefined;
    let accepted = 0;
    let rejected = 0;
    const reasons: Record<string, number> = {};
    for (const file of files.length ? files : ['-']) {
      const stream = await openLogFile(file);
      try {
        for await (const batch of splitLines(stream, { maxLineBytes: Number(opts['max-line-bytes']) })) {
          let out = '';
          let err = '';
          for (const line of batch) {
            const res = line.tooLong
              ? {
                  ok: false as const,
                  reject: { line: line.text, reason: 'line_too_long' as const, detail: `line of ${line.size} bytes is longer than --max-line-bytes` },
                }
              : parse(line.text);
            if (res.ok) {
              accepted++;
              out += `${recordJson(enricher ? enricher.enrich(res.record) : res.record)}\n`;
            } else {
              rejected++;
              reasons[res.reject.reason] = (reasons[res.reject.reason] ?? 0) + 1;
              err += `${rejectJson(enrich.privacyKey ? maskReject(res.reject) : res.reject)}\n`; // --privacy: addresses masked
            }
          }
          if (err) await write(process.stderr, err);
          if (out) await write(process.stdout, out);
        }
      } catch (e) {
        if (e instanceof WeblogError) throw e;
        throw new WeblogError('INPUT_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
      }
    }
    const detail = Object.entries(reasons)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    await write(process.stderr, `weblog parse: ${accepted + rejected} lines, ${accepted} accepted, ${rejected} rejected${detail ? ` (${detail})` : ''}\n`);
    return 0;
  },
});
