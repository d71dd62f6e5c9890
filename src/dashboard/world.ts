/**
 * The world map of the dashboard: Natural Earth's 1:110m country borders
 * (world-atlas, ISC; Natural Earth is public domain), decoded from TopoJSON,
 * projected with the Equal Earth projection (equal-area, so a country's ink
 * matches its size) and written as one SVG path string per ISO 3166 alpha-2
 * code, the code GeoIP stores in `country`. Computed once per process and
 * inlined in the page (the page makes no network request).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface WorldMap {
  width: number;
  height: number;
  /** ISO alpha-2 code → SVG path ("M x y L ... Z"), in the map's pixel space. */
  shapes: Record<string, string>;
  /** Where the map data comes from, for the page's footer. */
  attribution: string;
}

interface Topology {
  transform: { scale: [number, number]; translate: [number, number] };
  arcs: [number, number][][];
  objects: { countries: { geometries: { type: string; id?: string; properties: { name: string }; arcs: number[][] | number[][][] }[] } };
}

/** Countries Natural Earth draws without an ISO numeric code, by name. */
const byName: Record<string, string> = { Kosovo: 'XK', Somaliland: 'SO', 'N. Cyprus': 'CY' };

const A1 = 1.340264;
const A2 = -0.081106;
const A3 = 0.000893;
const A4 = 0.003796;
const M = Math.sqrt(3) / 2;

/** Equal Earth (Šavrič, Patterson, Jenny 2018): longitude, latitude in degrees → x, y in units of the earth's radius. */
export function equalEarth(lon: number, lat: number): [number, number] {
  const l = (lon * Math.PI) / 180;
  const t = Math.asin(M * Math.sin((lat * Math.PI) / 180));
  const t2 = t * t;
  const t6 = t2 * t2 * t2;
  return [(l * Math.cos(t)) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2))), t * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))];
}

const WIDTH = 960;
const X_MAX = equalEarth(180, 0)[0];
const Y_MAX = equalEarth(0, 90)[1];
const SCALE = WIDTH / (2 * X_MAX);
const HEIGHT = Math.ceil(2 * Y_MAX * SCALE);

/** A point in the map's pixel space (y down). */
export function project(lon: number, lat: number): [number, number] {
  const [x, y] = equalEarth(lon, lat);
  return [(x + X_MAX) * SCALE, (Y_MAX - y) * SCALE];
}

/** A number after `before` in a path: a minus sign separates it by itself (after 'l' nothing is needed either). */
const num = (n: number, before: string) => (n < 0 || before.endsWith('l') ? String(n) : ` ${n}`);

/** A closed ring as a compact SVG path: whole pixels, relative steps (one `l`, its pairs repeated), no repeated point. */
function pathOf(pts: [number, number][]): string {
  let out = '';
  let px = 0;
  let py = 0;
  for (const [fx, fy] of pts) {
    const x = Math.round(fx);
    const y = Math.round(fy);
    if (out === '') out = `M${x} ${y}l`;
    else if (x !== px || y !== py) out += `${num(x - px, out)}${num(y - py, 'x')}`;
    px = x;
    py = y;
  }
  return out.endsWith('l') ? `${out.slice(0, -1)}z` : `${out}z`; // a ring of one pixel: no empty lineto
}

let cached: WorldMap | undefined;

export function worldMap(): WorldMap {
  if (cached) return cached;
  const topo = require('world-atlas/countries-110m.json') as Topology;
  const codes = require('i18n-iso-countries') as { numericToAlpha2(n: string): string | undefined };
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  // Arcs are delta-encoded, quantized positions.
  const arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty] as [number, number];
    });
  });
  const ring = (refs: number[]) => {
    const pts: [number, number][] = [];
    for (const r of refs) {
      const arc = r >= 0 ? (arcs[r] as [number, number][]) : [...(arcs[~r] as [number, number][])].reverse();
      pts.push(...(pts.length > 0 ? arc.slice(1) : arc));
    }
    // A ring that crosses the antimeridian (Fiji, Russia's far east) jumps from +180 to -180 and back: keep it on
    // the east side (what goes past the map's edge is cut off) instead of drawing a line across the world.
    // Antarctica's ring goes round the pole (one jump) and stays as it is.
    let jumps = 0;
    for (let i = 1; i < pts.length; i++) if (Math.abs((pts[i] as [number, number])[0] - (pts[i - 1] as [number, number])[0]) > 180) jumps++;
    return jumps >= 2 ? pts.map(([lon, lat]) => [lon < 0 ? lon + 360 : lon, lat] as [number, number]) : pts;
  };
  const shapes: Record<string, string> = {};
  for (const g of topo.objects.countries.geometries) {
    const code = (g.id ? codes.numericToAlpha2(g.id) : undefined) ?? byName[g.properties.name];
    if (!code) continue;
    const polygons = (g.type === 'Polygon' ? [g.arcs] : g.arcs) as number[][][];
    let d = shapes[code] ?? '';
    for (const poly of polygons)
      for (const refs of poly) {
        d += pathOf(ring(refs).map(([lon, lat]) => project(lon, lat)));
      }
    shapes[code] = d;
  }
  cached = { width: WIDTH, height: HEIGHT, shapes, attribution: 'Natural Earth (public domain), 1:110m, via world-atlas (ISC)' };
  return cached;
}
