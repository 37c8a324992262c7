import { describe, expect, it } from 'vitest';
import { commandFor, SHORTCUTS } from './shortcuts.ts';

const key = (k: string, target: Partial<HTMLElement> & { type?: string } = { tagName: 'BODY' }, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  commandFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods, target: target as unknown as EventTarget });

describe('keyboard shortcuts', () => {
  it('maps keys to commands', () => {
    expect(key('?')).toBe('help');
    expect(key('3')).toBe('tab-timeline');
    expect(key(' ')).toBe('play-pause');
    expect(key(']')).toBe('step-forward');
    expect(key('x')).toBeNull();
  });
  it('never takes keys typed into a field, or with Ctrl/Alt/Meta', () => {
    expect(key('3', { tagName: 'INPUT', type: 'search' })).toBeNull();
    expect(key('t', { tagName: 'TEXTAREA' })).toBeNull();
    expect(key('t', { tagName: 'SELECT' })).toBeNull();
    expect(key('t', { tagName: 'INPUT', type: 'checkbox' })).toBe('theme');
    expect(key('t', {}, { ctrlKey: true })).toBeNull();
    expect(key(' ', { tagName: 'BUTTON' })).toBeNull();
  });
  it('every listed shortcut has a key and a description, and no key is listed twice', () => {
    const keys = SHORTCUTS.flatMap((s) => s.keys);
    expect(new Set(keys).size).toBe(keys.length);
    for (const s of SHORTCUTS) expect(s.what.length).toBeGreaterThan(5);
  });
});
