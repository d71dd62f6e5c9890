/**
 * What the dashboard shows where: its charts, the visit-times heat map and
 * every report as a sortable table, grouped in sections. The page script
 * reads it from the page's configuration; a test checks that each report
 * appears exactly once.
 */

export interface ChartSpec {
  id: string;
  title: string;
  /** Report and columns drawn as lines; the first column is the time axis. */
  report: string;
  series: { column: string; label: string; color: string; axis?: 'right' }[];
  /** Traffic: drawn from `hourly` instead when the range holds at most this many hours. */
  hourly?: { report: string; maxRows: number };
  note?: string;
}

export interface DashboardLayout {
  charts: ChartSpec[];
  heatmap: string;
  sections: { title: string; reports: string[] }[];
}

export const dashboardLayout: DashboardLayout = {
  charts: [
    {
      id: 'traffic',
      title: 'Traffic',
      report: 'traffic-daily',
      hourly: { report: 'traffic-hourly', maxRows: 24 * 7 },
      series: [
        { column: 'hits', label: 'Hits', color: '#2563eb' },
        { column: 'visitors', label: 'Visitors', color: '#16a34a' },
        { column: 'bytes', label: 'Bandwidth', color: '#d97706', axis: 'right' },
      ],
    },
    {
      id: 'response-time',
      title: 'Response time per day',
      report: 'response-time',
      series: [
        { column: 'p50_s', label: 'p50 (s)', color: '#16a34a' },
        { column: 'p95_s', label: 'p95 (s)', color: '#d97706' },
        { column: 'p99_s', label: 'p99 (s)', color: '#dc2626' },
      ],
      note: 'approximate (t-digest); only formats that log the request time',
    },
    {
      id: 'errors',
      title: 'Errors per day',
      report: 'errors',
      series: [
        { column: 'client_errors', label: '4xx', color: '#d97706' },
        { column: 'server_errors', label: '5xx', color: '#dc2626' },
      ],
    },
  ],
  heatmap: 'visit-times',
  sections: [
    { title: 'Pages', reports: ['top-pages', 'not-found', 'static-files', 'top-pages-daily'] },
    { title: 'Visits', reports: ['visits', 'entry-pages', 'exit-pages', 'visit-flow'] },
    { title: 'Visitors', reports: ['referrers', 'countries', 'regions', 'cities', 'top-ips', 'asns', 'vhosts'] },
    { title: 'Browsers and devices', reports: ['browsers', 'os', 'devices'] },
    { title: 'Responses', reports: ['status', 'errors', 'response-time', 'bandwidth', 'bandwidth-p95'] },
    { title: 'Bots', reports: ['bots', 'bot-categories', 'bot-names', 'ai-crawlers', 'impostors', 'scanners', 'bot-pages'] },
    { title: 'Over time', reports: ['traffic-daily', 'traffic-hourly', 'visitors', 'traffic-monthly', 'visit-times'] },
    { title: 'Data quality', reports: ['rejects'] },
  ],
};

/** Every report the page shows (each once), in page order. */
export function layoutReports(layout: DashboardLayout = dashboardLayout): string[] {
  return layout.sections.flatMap((s) => s.reports);
}
