/** The options of the alerts (`weblog alerts`, and `weblog serve` when the configuration has alert-rules). */
import { parseAlertRules, type AlertRule } from '../alerts/rules.js';
import { Webhook } from '../alerts/webhook.js';
import type { Logger } from '../observe/log.js';
import { WeblogError } from '../errors.js';
import { readConfigValue } from './config-file.js';
import type { OptionSpec, ParsedOptions } from './options.js';

export const alertDefaults = { intervalMs: 60_000 } as const;

export const alertOptions = [
  {
    name: 'webhook',
    type: 'string',
    arg: 'URL',
    description: 'POST each alert firing and resolution here as JSON (retried with backoff); without it alerts go to the log (and the live page)',
  },
  {
    name: 'alert-interval-ms',
    type: 'number',
    default: alertDefaults.intervalMs,
    min: 1000,
    max: 86_400_000,
    unit: 'ms',
    description: 'how often the alert rules (alert-rules in --config) are evaluated',
  },
] as const satisfies readonly OptionSpec[];

export interface AlertsConfig {
  rules: AlertRule[];
  webhook: Webhook | undefined;
  intervalMs: number;
}

/** The rules of the configuration file (none without --config or alert-rules), and where to send their events. */
export function alertsConfig(opts: ParsedOptions, log: Logger): AlertsConfig {
  const file = typeof opts.config === 'string' ? opts.config : undefined;
  const rules = file === undefined ? [] : parseAlertRules(readConfigValue(file, 'alert-rules'), file);
  const url = typeof opts.webhook === 'string' && opts.webhook !== '' ? opts.webhook : undefined;
  if (url !== undefined && rules.length === 0)
    throw new WeblogError('CONFIG_INVALID', '--webhook: there are no alert rules to send; put an alert-rules list in --config (docs/alerts.md)');
  return { rules, webhook: url === undefined ? undefined : new Webhook(url, { log }), intervalMs: Number(opts['alert-interval-ms']) };
}
