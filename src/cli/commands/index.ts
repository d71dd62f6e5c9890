/** Every weblog command, in the order `weblog --help` lists them. */
import type { Command } from '../options.js';
import { alertsCommand } from './alerts.js';
import { migrateCommand } from './migrate.js';
import { parseCommand } from './parse.js';
import { processCommand } from './process.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { shipCommand } from './ship.js';

export const commands: Command[] = [runCommand, shipCommand, processCommand, parseCommand, migrateCommand, reportCommand, serveCommand, alertsCommand];
