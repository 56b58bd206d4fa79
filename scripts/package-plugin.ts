/**
 * `npm run package`: the built plugin (dist/) as the zip `grafana cli --pluginUrl <zip> plugins install
 * prescaler-autoscaling-app` and the catalog accept: every file under one top folder named after the
 * plugin id (Grafana's installer replaces the first path component with the id and reads plugin.json
 * right under it; pkg/plugins/storage/fs.go), no absolute or `..` member. Writes
 * build/<id>-<version>.zip and its .sha1, prints the zip's path. Checks dist/ first, so a stale or
 * half-built dist/ is named instead of shipped.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const root = path.resolve(__dirname, '..');

interface PluginJson {
  id: string;
  type: string;
  info: { version: string; logos: Record<string, string>; screenshots: Array<{ path: string }> };
  includes?: Array<{ type: string; path?: string }>;
}

/** What must hold of dist/ before it is zipped; each problem in words. */
export function distProblems(dist: string): string[] {
  const p: string[] = [];
  const main = path.join(dist, 'plugin.json');
  if (!fs.existsSync(main)) return [`${dist}/plugin.json is missing: run npm run build first`];
  const plugin = JSON.parse(fs.readFileSync(main, 'utf8')) as PluginJson;
  const jsons = [
    main,
    ...(plugin.includes ?? [])
      .filter((i) => i.path?.endsWith('plugin.json'))
      .map((i) => path.join(dist, i.path!)),
  ];
  for (const file of jsons) {
    const rel = path.relative(dist, file);
    if (!fs.existsSync(file)) {
      p.push(`${rel} (included by plugin.json) is missing`);
      continue;
    }
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as PluginJson;
    const dir = path.dirname(file);
    if (!/^\d+\.\d+\.\d+/.test(j.info.version))
      p.push(`${rel}: info.version "${j.info.version}" is not a version (built?)`);
    if (!fs.existsSync(path.join(dir, 'module.js')))
      p.push(`${path.relative(dist, dir) || '.'}/module.js is missing`);
    for (const f of [...Object.values(j.info.logos ?? {}), ...(j.info.screenshots ?? []).map((s) => s.path)])
      if (!fs.existsSync(path.join(dir, f)))
        p.push(`${rel} names ${f}, which is not in ${path.relative(root, dir) || '.'}`);
  }
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md'])
    if (!fs.existsSync(path.join(dist, f)))
      p.push(`${f} is missing from dist/ (webpack copies it): run npm run build`);
  return p;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time of a Date, as zip stores them (local fields, 2-second resolution). */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export interface ZipEntry {
  /** Forward slashes; a trailing slash makes a directory. */
  name: string;
  data?: Buffer;
  modified: Date;
}

/** A zip archive (deflated members, Unix modes 0644/0755) of `entries`, in their order. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const dir = e.name.endsWith('/');
    const raw = dir ? Buffer.alloc(0) : (e.data ?? Buffer.alloc(0));
    const packed = dir ? raw : zlib.deflateRawSync(raw, { level: 9 });
    const method = dir ? 0 : 8;
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(raw);
    const { time, date } = dosTime(e.modified);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, packed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    // 30: extra length, 32: comment length, 34: disk, 36: internal attributes: all 0
    const mode = dir ? 0o040755 : 0o100644;
    central.writeUInt32LE(((mode << 16) | (dir ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** dist/'s files (and folders) under `<id>/`, folders first, names sorted: the same dist, the same order. */
export function pluginEntries(dist: string, id: string): ZipEntry[] {
  const out: ZipEntry[] = [{ name: `${id}/`, modified: fs.statSync(dist).mtime }];
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = fs.statSync(full);
      if (st.isDirectory()) {
        out.push({ name: `${prefix}${name}/`, modified: st.mtime });
        walk(full, `${prefix}${name}/`);
      } else if (st.isFile()) {
        out.push({ name: `${prefix}${name}`, data: fs.readFileSync(full), modified: st.mtime });
      }
    }
  };
  walk(dist, `${id}/`);
  return out;
}

/** Packages `dist` into `outDir`; returns the zip's path. Throws with every problem of dist/ named. */
export function packagePlugin(dist = path.join(root, 'dist'), outDir = path.join(root, 'build')): string {
  const problems = distProblems(dist);
  if (problems.length) throw new Error(`cannot package ${dist}:\n  ${problems.join('\n  ')}`);
  const plugin = JSON.parse(fs.readFileSync(path.join(dist, 'plugin.json'), 'utf8')) as PluginJson;
  const archive = zip(pluginEntries(dist, plugin.id));
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${plugin.id}-${plugin.info.version}.zip`);
  fs.writeFileSync(file, archive);
  fs.writeFileSync(
    `${file}.sha1`,
    `${createHash('sha1').update(archive).digest('hex')}  ${path.basename(file)}\n`
  );
  return file;
}

if (require.main === module) {
  try {
    const dist = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
    const out = process.argv[3] ? path.resolve(process.argv[3]) : undefined;
    process.stdout.write(`${packagePlugin(dist, out)}\n`);
  } catch (e) {
    process.stderr.write(`package: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
