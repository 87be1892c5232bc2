import { describe, expect, it } from 'vitest';
import { deriveJobStatus, deriveStatus, type StageFlags } from './status.ts';
import type { StageCounters } from './domain.ts';

const c = (p: Partial<StageCounters>): StageCounters => {
  const base = { pending: 0, running: 0, done: 0, skipped: 0, failed: 0, ...p };
  return { ...base, total: base.pending + base.running + base.done + base.skipped + base.failed };
};
const flags = (p: Partial<StageFlags> = {}): StageFlags => ({
  inputFinished: true,
  started: true,
  paused: false,
  cancelled: false,
  fatal: false,
  ...p,
});

describe('deriveStatus', () => {
  it('is completed as soon as the input is finished and nothing is left', () => {
    expect(deriveStatus(c({ done: 3, skipped: 2 }), flags())).toBe('completed');
  });
  it('is completed_with_errors when any item failed', () => {
    expect(deriveStatus(c({ done: 3, failed: 1 }), flags())).toBe('completed_with_errors');
  });
  it('is not terminal while the input may still grow', () => {
    expect(deriveStatus(c({ done: 3 }), flags({ inputFinished: false }))).toBe('running');
  });
  it('is running while items are pending or running', () => {
    expect(deriveStatus(c({ done: 3, pending: 1 }), flags())).toBe('running');
    expect(deriveStatus(c({ running: 1 }), flags())).toBe('running');
  });
  it('is queued before the scheduler starts the job', () => {
    expect(deriveStatus(c({}), flags({ started: false, inputFinished: false }))).toBe('queued');
  });
  it('is paused only while work remains', () => {
    expect(deriveStatus(c({ pending: 2 }), flags({ paused: true }))).toBe('paused');
    expect(deriveStatus(c({ done: 2 }), flags({ paused: true }))).toBe('completed');
  });
  it('lets cancel and fatal errors override everything', () => {
    expect(deriveStatus(c({ pending: 2 }), flags({ cancelled: true }))).toBe('cancelled');
    expect(deriveStatus(c({ done: 2 }), flags({ fatal: true }))).toBe('failed');
  });
});

describe('deriveJobStatus', () => {
  it('is terminal only when the scan has finished and every stage is drained', () => {
    const stages = {
      scan: c({ done: 2 }),
      thumbnail: c({ done: 2 }),
      cache: c({ pending: 1, done: 1 }),
    };
    const f = { started: true, paused: false, cancelled: false, fatal: false };
    expect(deriveJobStatus(stages, { ...f, scanFinished: true })).toBe('running');
    stages.cache = c({ done: 1, failed: 1 });
    expect(deriveJobStatus(stages, { ...f, scanFinished: false })).toBe('running');
    expect(deriveJobStatus(stages, { ...f, scanFinished: true })).toBe('completed_with_errors');
  });
});
