/**
 * Rescan benchmark: an unchanged folder walked again, which must read no file
 * contents and make no item rows. Reference, measured in the same run around
 * every rescan: a plain `find DIR -printf '%s %T@\n'` over the same tree (the
 * least any rescan must do: list every file with its size and time), and the
 * walk alone (`walkCollection`, no store). Also prints the store's size before
 * and after the rescans: it must not grow with them.
 *
 * No content is read: every file's access time is set before its modification
 * time once the import is done (on a `relatime` mount the next read of a file
 * then moves its atime), and checked after the rescans; a control read of one
 * file shows the mount records reads at all. Opens made through Node's `fs`
 * of files under the tree are counted too.
 *
 *   npm run bench:rescan -- [--files N] [--runs R] [--keep DIR]
 *
 * --files N   generated images, in folders of 500 (default 20000; a bare N works too)
 * --runs R    rescans measured (default 5)
 * --keep DIR  keep the tree and the data folder in DIR and use them again when
 *             they were made for the same N (the import of 100 000 takes minutes)
 * --profile F a CPU profile of the timed rescans only (not of find and the walk
 *             alone) written to F, for Chrome DevTools
 *
 * Exits non-zero when a rescan made item rows or read a file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';
import { walkCollection } from '../src-main/library/walk.ts';
import { DEFAULT_SETTINGS } from '../src-shared/settings.ts';

assertNodeVersion('the benchmark');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    files: { type: 'string' },
    runs: { type: 'string', default: '5' },
    profile: { type: 'string' },
    keep: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  const doc = fs.readFileSync(new URL(import.meta.url), 'utf8');
  console.log(/\/\*\*([\s\S]*?)\*\//.exec(doc)?.[1]?.replace(/^ \* ?/gm, '') ?? '');
  process.exit(0);
}
const n = Number(values.files ?? positionals[0] ?? 20000);
const runs = Number(values.runs);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(runs) || runs < 1) {
  throw new Error('--files and --runs must be whole numbers ≥ 1');
}
const root = values.keep ? resolve(values.keep) : fs.mkdtempSync(join(tmpdir(), 'bench-rescan-'));
const photos = join(root, 'photos');
const dataDir = join(root, 'data');
const stateFile = join(root, 'bench-state.json');
const PER_FOLDER = 500;
/** Whole seconds, so setting the times again later is exact. */
const MTIME_BASE = 1_600_000_000;

function fileOf(i: number): string {
  return join(photos, `DCIM-${Math.floor(i / PER_FOLDER)}`, `IMG_${i}.jpg`);
}
const mtimeOf = (i: number): number => MTIME_BASE + (i % 86_400);
/** Before its modification time: a read on a relatime mount moves it. */
const atimeOf = (i: number): number => mtimeOf(i) - 3600;

/** library.db with its WAL, in MB. */
function storeMb(): string {
  let bytes = 0;
  for (const f of ['library.db', 'library.db-wal']) {
    bytes += fs.statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0;
  }
  return (bytes / 1e6).toFixed(1);
}

function findMs(): number {
  const t = performance.now();
  execFileSync('find', [photos, '-printf', '%s %T@\\n'], { maxBuffer: 1 << 30 });
  return performance.now() - t;
}

async function walkMs(): Promise<number> {
  const t = performance.now();
  let entries = 0;
  for await (const batch of walkCollection(
    { kind: 'folder', root: photos },
    { batchSize: 256, limits: DEFAULT_SETTINGS.limits, excluded: [dataDir] },
  )) {
    entries += batch.length;
  }
  if (entries !== n) throw new Error(`the walk found ${entries} entries, not ${n}`);
  return performance.now() - t;
}

/** Counts opens through Node's fs of files under the tree (ESM imports see the wrappers). */
function countOpens(): { count: number } {
  const counter = { count: 0 };
  const under = (p: unknown): boolean =>
    (typeof p === 'string' || p instanceof URL || Buffer.isBuffer(p)) &&
    String(p instanceof URL ? p.pathname : p).startsWith(photos);
  const wrap = <K extends string>(obj: Record<K, unknown>, name: K): void => {
    const original = obj[name] as (...args: unknown[]) => unknown;
    obj[name] = function (this: unknown, ...args: unknown[]) {
      if (under(args[0])) counter.count++;
      return original.apply(this, args);
    };
  };
  const f = fs as unknown as Record<string, unknown>;
  for (const name of ['open', 'openSync', 'readFile', 'readFileSync', 'createReadStream']) {
    wrap(f, name);
  }
  wrap(fs.promises as unknown as Record<string, unknown>, 'open');
  wrap(fs.promises as unknown as Record<string, unknown>, 'readFile');
  syncBuiltinESMExports();
  return counter;
}

function setAtimes(): void {
  for (let i = 0; i < n; i++) fs.utimesSync(fileOf(i), atimeOf(i), mtimeOf(i));
}

/** Files whose access time moved since `setAtimes`: read by someone. */
function readFiles(): number {
  let read = 0;
  for (let i = 0; i < n; i++) {
    if (Math.floor(fs.statSync(fileOf(i)).atimeMs / 1000) !== atimeOf(i)) read++;
  }
  return read;
}

interface CpuProfile {
  nodes: { id: number; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The profiles of the runs as one, under one root, as if the gaps between them were not. */
function mergeProfiles(list: object[]): CpuProfile {
  const out: CpuProfile = { nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] };
  let offset = 0;
  for (const p of list as CpuProfile[]) {
    const rootId = p.nodes[0]?.id;
    const root = out.nodes[0];
    const id = (x: number): number => (root && x === rootId ? root.id : x + offset);
    let max = 0;
    for (const node of p.nodes) {
      max = Math.max(max, node.id);
      const children = (node.children ?? []).map(id);
      if (root && node.id === rootId) root.children = [...(root.children ?? []), ...children];
      else out.nodes.push({ ...node, id: id(node.id), children });
    }
    out.samples.push(...p.samples.map(id));
    out.timeDeltas.push(...p.timeDeltas.map((d, i) => (i === 0 ? 0 : d)));
    out.endTime += p.endTime - p.startTime;
    offset += max;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

let failed = false;
try {
  const kept = values.keep && fs.existsSync(stateFile);
  const state = kept ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { files?: number }) : {};
  const reuse = state.files === n;
  if (!reuse) {
    fs.rmSync(photos, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(stateFile, { force: true });
    // Distinct files (a byte differs), in folders of 500 as cameras make them.
    const base = await sharp({
      create: { width: 64, height: 48, channels: 3, background: '#468' },
    })
      .jpeg()
      .toBuffer();
    for (let i = 0; i < n; i++) {
      if (i % PER_FOLDER === 0)
        fs.mkdirSync(join(photos, `DCIM-${i / PER_FOLDER}`), { recursive: true });
      const data = Buffer.from(base);
      data.writeUInt32BE(i, data.length - 8);
      fs.writeFileSync(fileOf(i), data);
      fs.utimesSync(fileOf(i), atimeOf(i), mtimeOf(i));
    }
  }

  const core = openNodeCore({ dataDir, logFile: null });
  try {
    await core.start();
    const collectionId = await (async () => {
      if (reuse) {
        const real = fs.realpathSync(photos);
        const c = core.collections().find((x) => x.collection.root === real);
        if (c) return c.collection.id;
      }
      const t = performance.now();
      const first = await core.importPath(photos);
      const [done] = await core.whenDone([first.id]);
      if (done?.status !== 'completed') throw new Error(`the import ended ${done?.status}`);
      console.log(`${n} images imported in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      if (values.keep) fs.writeFileSync(stateFile, JSON.stringify({ files: n }));
      return first.collectionId;
    })();

    // The start-up check stats every output file: not part of a rescan, so not timed with one.
    const checked = performance.now();
    await core.whenOutputsChecked();
    console.log(
      `start-up check of the output files: ${(performance.now() - checked).toFixed(0)} ms`,
    );
    setAtimes();
    const opens = countOpens();
    const before = storeMb();
    const ratios: number[] = [];
    const profiles: object[] = [];
    const walkRatios: number[] = [];
    const session = values.profile ? new Session() : null;
    session?.connect();
    await session?.post('Profiler.enable');
    for (let run = 1; run <= runs; run++) {
      const ref1 = findMs();
      const walk = await walkMs();
      await session?.post('Profiler.start');
      const t0 = Date.now();
      const cpu0 = process.cpuUsage();
      const [job] = core.rescan([collectionId]);
      const [done] = await core.whenDone([job!.id]);
      const told = Date.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const profile = await session?.post('Profiler.stop');
      if (profile) profiles.push(profile.profile);
      // The commit that ended the job, not the coalesced event that told of it.
      const ms = (done!.finishedAt ?? Date.now()) - t0;
      const refMs = Math.min(ref1, findMs());
      const s = done!.stages;
      const items = s.scan.total + s.thumbnail.total + s.cache.total;
      if (items > 0 || done!.status !== 'completed') failed = true;
      ratios.push(ms / refMs);
      walkRatios.push(walk / refMs);
      console.log(
        `rescan ${run}: ${ms.toFixed(0)} ms, walk alone ${walk.toFixed(0)} ms, find ${refMs.toFixed(0)} ms; ` +
          `ratio rescan/find ${(ms / refMs).toFixed(1)}, walk/find ${(walk / refMs).toFixed(1)}; ` +
          `cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, event after ${told} ms; ` +
          `item rows made: ${items}, status ${done!.status}`,
      );
    }
    if (values.profile) {
      fs.writeFileSync(values.profile, JSON.stringify(mergeProfiles(profiles)));
      console.log(`CPU profile of the rescans written to ${values.profile}`);
    }
    console.log(`store: ${before} MB before the rescans, ${storeMb()} MB after ${runs}`);

    const read = readFiles();
    const opened = opens.count;
    const control = fileOf(0);
    fs.readFileSync(control);
    const recorded = Math.floor(fs.statSync(control).atimeMs / 1000) !== atimeOf(0);
    fs.utimesSync(control, atimeOf(0), mtimeOf(0));
    console.log(
      `contents read during the rescans: ${read} of ${n} files by access time` +
        (recorded ? '' : ' (NOT CHECKED: this mount does not record reads)') +
        `; opens through fs: ${opened}`,
    );
    if (read > 0 || opened > 0) failed = true;
    console.log(
      `ratio rescan/find: best ${Math.min(...ratios).toFixed(1)}, median ${median(ratios).toFixed(1)}; ` +
        `walk/find: best ${Math.min(...walkRatios).toFixed(1)}, median ${median(walkRatios).toFixed(1)}`,
    );
  } finally {
    await core.close();
  }
} finally {
  if (!values.keep) fs.rmSync(root, { recursive: true, force: true });
}
if (failed) {
  console.log(
    'FAILED: a rescan of the unchanged tree made item rows, did not finish, or read a file',
  );
  process.exitCode = 1;
}
