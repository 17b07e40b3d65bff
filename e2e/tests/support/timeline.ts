import { expect, type Page } from '@playwright/test';
import type { StepView } from './qubot';

/** Status words as the dashboard's badges print them (apps/web lib/status-utils.ts). */
const LABELS: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  paused: 'Paused',
  succeeded: 'Succeeded',
  failed: 'Failed',
  rolled_back: 'Rolled back',
  aborted: 'Aborted',
  skipped: 'Skipped',
};

export const statusLabel = (status: string) => LABELS[status] ?? status.replaceAll('_', ' ');

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The deployment page's step timeline (region "Steps"). */
export const timelineItems = (page: Page) =>
  page.getByRole('region', { name: 'Steps' }).getByRole('listitem');

/** The timeline on screen shows exactly the stored steps: same order, names, statuses and messages. */
export async function expectTimeline(page: Page, steps: readonly StepView[]) {
  const ordered = [...steps].sort((a, b) => a.position - b.position);
  const items = timelineItems(page);
  await expect(items).toHaveCount(ordered.length);
  for (const [i, step] of ordered.entries()) {
    await expect(items.nth(i)).toContainText(
      new RegExp(`${escapeRegExp(step.name)}\\s*${escapeRegExp(statusLabel(step.status))}`),
    );
    // Times in a message are shown as clock times ("holding until 14:38:04"), not ISO.
    if (step.message) await expect(items.nth(i)).toContainText(messagePattern(step.message));
  }
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/** A stored step message as the timeline prints it: ISO times become any clock time. */
export function messagePattern(message: string): RegExp {
  const parts = message.split(ISO_TIME).map(escapeRegExp);
  return new RegExp(parts.join('\\d{2}:\\d{2}:\\d{2}'));
}

/** One step of the timeline, found by its name (other steps' messages may quote it). */
export const timelineStep = (page: Page, name: string) =>
  timelineItems(page).filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}`) });
