import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/env';

describe('the worker cache settings', () => {
  it('default to 500 cached lifecycles and a 10 s sticky timeout', () => {
    const config = loadConfig({});
    expect(config.ADMIT_WORKFLOW_CACHE_SIZE).toBe(500);
    expect(config.ADMIT_STICKY_QUEUE_TIMEOUT).toBe(10_000);
  });

  it('take a size and a duration', () => {
    const config = loadConfig({ ADMIT_WORKFLOW_CACHE_SIZE: '0', ADMIT_STICKY_QUEUE_TIMEOUT: '2m' });
    expect(config.ADMIT_WORKFLOW_CACHE_SIZE).toBe(0);
    expect(config.ADMIT_STICKY_QUEUE_TIMEOUT).toBe(120_000);
  });

  it('refuse what a worker cannot use, naming the variable', () => {
    expect(() => loadConfig({ ADMIT_WORKFLOW_CACHE_SIZE: '-1' })).toThrow(/ADMIT_WORKFLOW_CACHE_SIZE/);
    expect(() => loadConfig({ ADMIT_WORKFLOW_CACHE_SIZE: '1.5' })).toThrow(/ADMIT_WORKFLOW_CACHE_SIZE/);
    expect(() => loadConfig({ ADMIT_STICKY_QUEUE_TIMEOUT: '500ms' })).toThrow(/ADMIT_STICKY_QUEUE_TIMEOUT: must be between 1s and 10m/);
    expect(() => loadConfig({ ADMIT_STICKY_QUEUE_TIMEOUT: 'soon' })).toThrow(/ADMIT_STICKY_QUEUE_TIMEOUT/);
  });
});
