/**
 * The dashboard page: one self-contained HTML document (uPlot, the styles and
 * the page's script inlined; no network access at view time). It runs in one
 * of two modes:
 * - static: the reports are embedded in the page (`weblog report --html`,
 *   the end of `weblog run`);
 * - live: the page reads the JSON API it is served with (`weblog serve`) and
 *   refreshes itself.
 * Log fields are hostile input: the page script writes them as text nodes
 * only, and the embedded JSON cannot close its <script> element.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportJson } from '../report/render.js';
import { dashboardLayout } from './layout.js';
import { worldMap } from './world.js';

/** Rows of the countries report the map reads: every country. */
export const MAP_LIMIT = 300;
import { filterFields, takesFilters } from '../report/filters.js';
import { listReports } from '../report/reports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** What the page knows before it asks for (or reads) any report. */
export interface PageMeta {
  /** Sites in the data, for the site filter. */
  sites: string[];
  /** Time of the oldest and newest stored line (ISO-8601 UTC), or null without data. */
  first: string | null;
  last: string | null;
  /** Where the data is, for the page header (never a password). */
  source: string;
  generatedAt: string;
}

export type PageConfig =
  | {
      mode: 'static';
      meta: PageMeta;
      query: { from: string | null; to: string | null; site: string; limit: number; where: string[] };
      reports: Record<string, ReportJson>;
      /** Every country of the range, for the map (the countries table shows the top `limit`). */
      map: ReportJson;
    }
  | { mode: 'live'; refreshMs: number; limit: number; alerts?: boolean };

let assets: { uplotJs: string; uplotCss: string; uplotLicense: string; worldLicense: string; appJs: string; appCss: string } | undefined;

function loadAssets(): NonNullable<typeof assets> {
  const uplotDir = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
  return {
    uplotJs: readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8'),
    // Its MIT license travels with every copy of the page.
    uplotLicense: readFileSync(path.join(uplotDir, '..', 'LICENSE'), 'utf8').replace(/--/g, '- -'),
    // The map's borders come from world-atlas (ISC): its notice travels with the page too.
    worldLicense: readFileSync(path.join(path.dirname(require.resolve('world-atlas/package.json')), 'LICENSE'), 'utf8').replace(/--/g, '- -'),
    appJs: readFileSync(path.join(here, 'assets', 'app.js'), 'utf8'),
    appCss: readFileSync(path.join(here, 'assets', 'app.css'), 'utf8'),
  };
}

/** JSON that is safe inside a <script> element: no "<" (so no "</script>" or "<!--"), no U+2028/2029. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A string in a <script> element must not end it early. */
const inlineScript = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1');

export function renderPage(config: PageConfig): string {
  assets ??= loadAssets();
  // The filter bar: which columns a click filters by, and which reports take no filters (their rows are never filtered).
  const filters = { fields: Object.keys(filterFields), unfiltered: listReports().flatMap((r) => (takesFilters(r.sql) ? [] : [r.name])) };
  const boot = { ...config, layout: dashboardLayout, filters, world: worldMap(), mapLimit: MAP_LIMIT };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="weblog">
<title>weblog dashboard</title>
<style>${assets.uplotCss}</style>
<style>${assets.appCss}</style>
</head>
<body>
<noscript>This dashboard needs JavaScript; the same reports are in <code>weblog report NAME</code>.</noscript>
<div id="app"></div>
<!-- uPlot (https://github.com/leeoniya/uPlot), inlined:
${assets.uplotLicense.trim()}
-->
<!-- The world map: Natural Earth (public domain) 1:110m borders from world-atlas (https://github.com/topojson/world-atlas):
${assets.worldLicense.trim()}
-->
<script>${inlineScript(assets.uplotJs)}</script>
<script id="weblog-config" type="application/json">${scriptJson(boot)}</script>
<script>${inlineScript(assets.appJs)}</script>
</body>
</html>
`;
}
