/** `npm run docs:config`: writes docs/configuration.md from the commands' option tables. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { commands } from '../../src/cli/commands/index.js';
import { configurationMarkdown } from '../../src/cli/docs.js';
import { repoRoot } from './datasets.js';

writeFileSync(path.join(repoRoot, 'docs', 'configuration.md'), configurationMarkdown(commands));
process.stdout.write('wrote docs/configuration.md\n');
