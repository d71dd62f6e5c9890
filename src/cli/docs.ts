/**
 * docs/configuration.md, generated from the commands' option tables (the
 * same tables `--help` prints): `npm run docs:config` writes it, a test
 * keeps it equal.
 */
import { envName, type Command, type OptionSpec } from './options.js';

const intro = `# Configuration reference

Generated from the option tables by \`npm run docs:config\` (a test keeps it equal); \`weblog <command> --help\`
prints the same. Every option has a flag and an environment variable \`WEBLOG_<OPTION>\` (e.g. \`WEBLOG_FORMAT=nginx\`);
connections also read the conventional variables listed. A wrong flag or value fails at start with exit code 2
and a message that names it; number options take whole numbers in the range shown.

Long-lived workers can read a configuration file, \`--config FILE\` or \`WEBLOG_CONFIG\` (YAML or JSON, at most
1 MiB, keys named like the long options; a section named after a command applies to it alone; a key no command
knows is refused with its name; values are never echoed in errors). Precedence: flag > environment > file > default.

\`\`\`yaml
# weblog.yaml
brokers: [kafka1:9092, kafka2:9092]
clickhouse: http://weblog:secret@clickhouse:8123
process:
  group: weblog
  max-insert-rows: 100000
ship:
  source: s3://my-logs/nginx/
  follow: true
\`\`\`

Secrets: passwords go in URLs (\`CLICKHOUSE_URL\`) or the environment (\`KAFKA_PASSWORD\`, \`AWS_SECRET_ACCESS_KEY\`),
never on the command line; they are redacted from every message.

Exit codes: 0 done, 1 failure (also: nearly every line rejected, or a drain that had to abort), 2 usage error.
`;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function flagOf(o: OptionSpec): string {
  return `\`--${o.name}${o.type === 'boolean' ? '' : ` ${o.arg ?? (o.type === 'number' ? 'N' : 'VALUE')}`}\``;
}

function defaultOf(o: OptionSpec): string {
  if (o.default === undefined || o.default === '') return '—';
  const v = typeof o.default === 'number' ? o.default.toLocaleString('en-US') : String(o.default);
  return `${v}${o.unit ? ` ${o.unit}` : ''}`;
}

function rangeOf(o: OptionSpec): string {
  if (o.type !== 'number') return '';
  return ` (${(o.min ?? 0).toLocaleString('en-US')}..${o.max === undefined ? 'any' : o.max.toLocaleString('en-US')})`;
}

export function configurationMarkdown(commands: readonly Command[]): string {
  const out = [intro];
  for (const c of commands) {
    out.push(`\n## weblog ${c.name}\n\n${c.summary}\n\n\`${c.usage}\`\n`);
    out.push('| option | environment | default | what |\n|---|---|---|---|');
    for (const o of c.options) {
      const env = [envName(o.name), ...(o.env ?? [])].map((e) => `\`${e}\``).join(', ');
      out.push(`| ${cell(flagOf(o))} | ${env} | ${cell(defaultOf(o))}${rangeOf(o)} | ${cell(o.description)} |`);
    }
    if (c.notes) out.push(`\n${c.notes.trim()}`);
  }
  return `${out.join('\n')}\n`;
}
