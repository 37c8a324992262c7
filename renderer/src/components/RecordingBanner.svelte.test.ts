import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { FAKE_STATUS } from '../lib/testing/fake-api.ts';
import { recordingNotices } from '../lib/model/recording.ts';
import RecordingBanner from './RecordingBanner.svelte';

afterEach(() => cleanup());

const pause = { detail: "the browser's storage quota for Xendeck is used up (QuotaExceededError)", retries: 0, nextRetry: Date.UTC(2026, 0, 1, 10, 0, 2) };

describe('RecordingBanner', () => {
  it('shows nothing while recording is normal', () => {
    const { container } = render(RecordingBanner, { notices: recordingNotices({ ...FAKE_STATUS, recordingState: 'normal' }, null), pause: null });
    expect(container.textContent?.trim()).toBe('');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shedding is a status (not an alert) with the pending count', () => {
    render(RecordingBanner, { notices: recordingNotices({ ...FAKE_STATUS, recordingState: 'shedding', recordingReason: 'outbox-high', pending: 1200, capRecords: 5000 }, null), pause: null });
    const n = screen.getByTestId('recording-host');
    expect(n.getAttribute('role')).toBe('status');
    expect(n.dataset.level).toBe('warn');
    expect(n.textContent).toContain('Recording under pressure: guest data is being summarised (1,200 pending of 5,000)');
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('a paused host outbox is an alert with the reason in plain words', () => {
    render(RecordingBanner, { notices: recordingNotices({ ...FAKE_STATUS, recordingState: 'paused', recordingReason: 'disk-full' }, null), pause: null });
    expect(screen.getByRole('alert').textContent).toContain("Recording paused: the disk holding Xendeck's outbox is full.");
  });

  it("this store full is an alert with its reason, when it retries, and a Try again button that calls back", async () => {
    let tried = 0;
    render(RecordingBanner, { notices: recordingNotices(null, pause), pause, onretry: () => void tried++ });
    const alert = screen.getByRole('alert');
    expect(alert.dataset.testid).toBe('recording-store');
    expect(alert.textContent).toContain('Recording paused: storage is full — the browser');
    expect(alert.textContent).toContain('Nothing recorded so far is lost');
    expect(screen.getByTestId('recording-retry').textContent).toMatch(/^\s*First retry at \d\d:\d\d:02\s*$/);
    await fireEvent.click(screen.getByRole('button', { name: 'Try again now' }));
    expect(tried).toBe(1);
  });

  it('after failed retries it says how many', () => {
    const p = { ...pause, retries: 3 };
    render(RecordingBanner, { notices: recordingNotices(null, p), pause: p });
    expect(screen.getByTestId('recording-retry').textContent).toMatch(/Tried 3 times; next at/);
  });
});
