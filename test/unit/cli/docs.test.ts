import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import { configurationMarkdown } from '../../../src/cli/docs.js';
import { repoRoot } from '../../helpers/datasets.js';

describe('configuration reference', () => {
  it('docs/configuration.md is what the option tables generate (npm run docs:config writes it)', () => {
    expect(readFileSync(path.join(repoRoot, 'docs', 'configuration.md'), 'utf8')).toBe(configurationMarkdown(commands));
  });

  it('lists every option of every command', () => {
    const md = configurationMarkdown(commands);
    for (const c of commands) for (const o of c.options) expect(md, `${c.name} --${o.name}`).toContain(`--${o.name}`);
  });
});
