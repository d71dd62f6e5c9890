/**
 * A small Prometheus registry (text exposition format 0.0.4): counters,
 * gauges and histograms with labels. Enough for weblog's workers without a
 * dependency; names follow Prometheus conventions (_total, _seconds).
 */

type Labels = Record<string, string | number>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

export class Counter implements Metric {
  readonly type = 'counter' as const;
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  total(): number {
    let s = 0;
    for (const v of this.values.values()) s += v;
    return s;
  }
  render(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge implements Metric {
  readonly type = 'gauge' as const;
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  private sampler: (() => number) | undefined;
  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }
  /** The unlabelled value is read from `fn` whenever the gauge is read or rendered (a state, such as health, that has no moment of change). */
  sample(fn: () => number): this {
    this.sampler = fn;
    return this;
  }
  get(labels?: Labels): number | undefined {
    if (this.sampler && labelKey(labels) === '') this.values.set('', this.sampler());
    return this.values.get(labelKey(labels));
  }
  /** Every labelled value. */
  all(): number[] {
    return [...this.values.values()];
  }
  render(): string[] {
    if (this.sampler) this.values.set('', this.sampler());
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram' as const;
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
  }
  render(): string[] {
    const lines = this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.counts[i]}`);
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  private add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    return this.metrics.map((m) => [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render()].join('\n')).join('\n') + '\n';
  }
}

/** What /healthz says, as a number (for alert rules): 1 while it answers 200, 0 while 503. */
export function healthMetric(registry: Registry, healthy: () => boolean): Gauge {
  return registry
    .gauge('weblog_healthy', '1 while /healthz answers 200, 0 while it answers 503 (waiting for a server, a full disk, a silent broker)')
    .sample(() => (healthy() ? 1 : 0));
}
